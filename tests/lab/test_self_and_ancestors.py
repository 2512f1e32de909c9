"""`lab down` does not count itself, or what started it, as a process left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from hakeeper.lab.lifecycle import _self_and_ancestors


def test_this_process_and_its_parents_are_excluded() -> None:
    mine = _self_and_ancestors()
    assert os.getpid() in mine
    assert os.getppid() in mine


def test_a_child_sees_its_parent_chain_but_not_its_siblings() -> None:
    sibling = subprocess.Popen(["sleep", "30"])
    try:
        code = (
            "import json; from hakeeper.lab.lifecycle import _self_and_ancestors as f; "
            "print(json.dumps(sorted(f())))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        seen = set(json.loads(out.stdout))
        assert os.getpid() in seen
        assert sibling.pid not in seen
    finally:
        sibling.kill()
        sibling.wait()
