"""FakeAgentRunner: the AgentRunner for unit tests of the code around agents.

    runner = FakeAgentRunner(expect=[Call("galera", "start", "ctl1", rc=OcfRc.OK),
                                     Call("galera", "monitor", "ctl1", interval_ms=10000)])
    ... code under test calls runner.run(request) ...
    runner.verify()   # fails on any unexpected call and on any expected one not made

Calls are matched in any order (a node runs independent actions concurrently) unless
ordered=True. An unexpected call raises UnexpectedCall where it happens and again from
verify(), so a daemon thread that swallows it still fails the test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType

from hakeeper.agents.request import OpRequest
from hakeeper.agents.result import OcfRc, OpResult, OpStatus, as_rc


class UnexpectedCall(AssertionError):
    """The code under test ran an action no Call expected (or in the wrong order)."""


@dataclass(frozen=True, slots=True)
class Call:
    """An expected call and the result to answer it with. None fields match anything;
    times: how many calls it answers (recurring monitors)."""

    resource: str
    action: str
    node: str
    rc: int = OcfRc.OK
    interval_ms: int | None = None
    params: Mapping[str, str] | None = None
    container: str | None = None
    status: OpStatus = OpStatus.DONE
    exit_reason: str | None = None
    times: int = 1
    output: str = ""

    def matches(self, request: OpRequest) -> bool:
        return (
            (self.resource, self.action, self.node)
            == (request.resource, request.action, request.node)
            and (self.interval_ms is None or self.interval_ms == request.interval_ms)
            and (self.params is None or dict(self.params) == dict(request.params))
            and (self.container is None or self.container == request.container)
        )

    def result(self) -> OpResult:
        return OpResult(as_rc(self.rc), self.status, self.exit_reason, 0.0, self.output)

    def __str__(self) -> str:
        extra = f" interval={self.interval_ms}" if self.interval_ms is not None else ""
        return f"{self.resource} {self.action} on {self.node}{extra}"


@dataclass(slots=True)
class _Pending:
    call: Call
    left: int


class FakeAgentRunner:
    """Answers each request from the expected calls; records every request in `calls`."""

    def __init__(self, expect: Iterable[Call] = (), *, ordered: bool = False) -> None:
        self._pending: list[_Pending] = []
        self.ordered = ordered
        self.calls: list[OpRequest] = []
        self.errors: list[UnexpectedCall] = []
        self._lock = threading.Lock()
        self.expect(*expect)

    def expect(self, *calls: Call) -> None:
        with self._lock:
            self._pending.extend(_Pending(call, call.times) for call in calls)

    def run(self, request: OpRequest) -> OpResult:
        with self._lock:
            self.calls.append(request)
            candidates = self._pending[:1] if self.ordered else self._pending
            for entry in candidates:
                if entry.call.matches(request):
                    entry.left -= 1
                    if entry.left <= 0:
                        self._pending.remove(entry)
                    return entry.call.result()
            error = UnexpectedCall(
                f"unexpected call: {request.resource} {request.action} on {request.node} "
                f"(interval {request.interval_ms}); expecting "
                + (", ".join(str(e.call) for e in candidates) or "nothing")
            )
            self.errors.append(error)
        raise error

    @property
    def pending(self) -> list[Call]:
        with self._lock:
            return [entry.call for entry in self._pending]

    def verify(self) -> None:
        """Raise AssertionError for an unexpected call made, or an expected one not made."""
        if self.errors:
            raise self.errors[0]
        pending = self.pending
        if pending:
            raise AssertionError("expected calls not made: " + ", ".join(map(str, pending)))

    def __enter__(self) -> FakeAgentRunner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.verify()
