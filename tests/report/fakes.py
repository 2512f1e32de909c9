"""A runner fake for `report`, whose commands run in parallel threads: it answers declared
argv in any order and fails on any other call, and on declared calls never made."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

from hakeeper.checks.runner import RunResult


def ok(out: str) -> RunResult:
    return RunResult((), 0, out)


MISSING = RunResult((), None, missing=True)


class FakeRunner:
    def __init__(self, answers: Mapping[tuple[str, ...], RunResult]) -> None:
        self.pending = dict(answers)
        self.calls: list[tuple[str, ...]] = []
        self._lock = threading.Lock()

    def run(self, argv: Sequence[str], *, timeout: float) -> RunResult:
        key = tuple(argv)
        with self._lock:
            self.calls.append(key)
            if key not in self.pending:
                raise AssertionError(f"unexpected command {key}")
            r = self.pending.pop(key)
        return RunResult(key, r.returncode, r.stdout, r.stderr, r.timed_out, r.missing)

    def assert_done(self) -> None:
        assert not self.pending, f"expected calls not made: {list(self.pending)}"
