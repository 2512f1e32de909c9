"""Compare `hakeeper simulate` with `crm_simulate -S` on one CIB, the way the oracle tests do."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from . import crm

ROOT = Path(__file__).resolve().parents[2]
# HAKEEPER=... points the oracle tests at another build.
HAKEEPER = os.environ.get("HAKEEPER", str(ROOT / ".venv" / "bin" / "hakeeper"))


def compare_with_crm_simulate(xml: str) -> None:
    """Fail, showing both outputs and the CIB, unless hakeeper plans what Pacemaker plans."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "cib.xml"
        path.write_text(xml)
        want = crm.crm_simulate(path, "-S", timeout=60)
        want_set = crm.summary_set(want.stdout)
        assert want_set is not None, f"harness: crm_simulate printed no summary\n{want.stderr}"
        got = crm.run([HAKEEPER, "simulate", str(path)], timeout=60)
        got_set = crm.summary_set(got.stdout) if got.ok else None
        if got_set == want_set:
            return
        if got_set is None:
            verdict = f"hakeeper simulate gave no transition summary ({got.error() or 'exit 0'})"
        else:
            missing = "\n".join(f"  - {line}" for line in sorted(want_set - got_set))
            extra = "\n".join(f"  + {line}" for line in sorted(got_set - want_set))
            verdict = "transition summaries differ (- crm_simulate only, + hakeeper only):\n"
            verdict += f"{missing}\n{extra}"
        pytest.fail(
            f"{verdict}\n\n"
            f"===== crm_simulate -x CIB -S (exit {want.returncode})\n{want.stdout}{want.stderr}\n"
            f"===== {HAKEEPER} simulate CIB (exit {got.returncode})\n{got.stdout}{got.stderr}\n"
            f"===== CIB\n{xml}",
            pytrace=False,
        )
