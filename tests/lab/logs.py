"""A failed lab test keeps what its lab logged: the lab itself goes with the test's teardown,
and a failure seen once in CI must be readable afterwards."""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from hakeeper.lab.plan import LabPlan

KEPT = Path("/var/tmp/hakeeper-test-logs")
# the nodes' own state that is not a log: container layers and etcd's data
SKIPPED = {"containers", "etcd", "hk-holder", "bin"}
WANTED = (".log", ".xml", ".json", "grastate.dat")
LIMIT = 8 << 20  # the end of a longer file is what matters


def keep_lab_logs(directory: str, test: str) -> Path | None:
    """Copies the lab's logs, its CIB and each node's logs to a directory named after the
    test (and this process: xdist's workers run side by side), under KEPT; returns it, or
    None when nothing was copied. Never raises: keeping logs must not fail a run."""
    lab = Path(directory)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", test)[-100:]
    target = KEPT / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{name}"
    copied = 0
    for root, dirs, files in os.walk(lab):
        dirs[:] = [d for d in dirs if d not in SKIPPED]
        for file in files:
            if not file.endswith(WANTED):
                continue
            source = Path(root) / file
            copy = target / source.relative_to(lab)
            try:
                copy.parent.mkdir(parents=True, exist_ok=True)
                _tail_copy(source, copy)
                copied += 1
            except OSError:
                continue  # a socket, a file removed meanwhile, a full disk
    return target if copied else None


def _tail_copy(source: Path, copy: Path) -> None:
    with source.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - LIMIT))
        with copy.open("wb") as out:
            shutil.copyfileobj(f, out)


def kept_at(plan: LabPlan, test: str) -> str:
    """For an assertion's message: where the lab's logs were kept."""
    kept = keep_lab_logs(plan.directory, test)
    return f"\nthe lab's logs are kept in {kept}" if kept else ""
