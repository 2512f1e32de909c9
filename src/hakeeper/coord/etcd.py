"""etcd://HOST:PORT[,HOST:PORT...] — the production store: an etcd 3.4+ cluster over gRPC.

Client choice: aetcd. It ships the etcd v3 gRPC stubs on grpc.aio, imports with current
protobuf (the old etcd3 package does not), and an RPC to a dead member fails at once
with UNAVAILABLE, which is what lets us move to the next endpoint. etcd3gw (HTTP gateway)
was rejected because its watch hangs silently when its member dies: a controller would
stop seeing changes without knowing it. We drive aetcd's stubs directly rather than its
Client: the Client talks to one endpoint and its watcher cannot ask the server to cancel
watches on a member that lost its leader ("hasleader"), both of which failover needs.

grpc.aio needs an event loop; the Coordinator API is synchronous, so the loop runs in a
dedicated daemon thread and every call is submitted to it.

Failover: calls go to one endpoint at a time. UNAVAILABLE (member down, no leader, or
"request timed out" inside etcd) or a missed deadline moves to the next endpoint and
retries, round the endpoints for up to `timeout` seconds. Retrying a write is safe here
because every transaction the Coordinator sends is either guarded by a compare or
harmless to apply twice; when an earlier attempt may have applied, the result says so
(TxnResult.ambiguous) so a failed compare can be checked against our own write.
Watches resume on the next endpoint from the revision after the last one delivered, so
none is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import queue
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc  # type: ignore[import-untyped]
from aetcd import rpc  # type: ignore[import-untyped]

from hakeeper.coord.errors import (
    Compacted,
    CoordError,
    CoordTimeout,
    CoordUnavailable,
    LeaseExpired,
)
from hakeeper.coord.kv import (
    Compare,
    Delete,
    Entry,
    KvEvent,
    KvStore,
    KvWatch,
    ModIs,
    Op,
    Put,
    TxnResult,
)

T = TypeVar("T")

# Pings find a member that is gone without closing its TCP connections (a cut link).
# etcd rejects pings more often than every 5 s by default (--grpc-keepalive-min-time).
CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 6_000),
    ("grpc.keepalive_timeout_ms", 2_000),
    ("grpc.keepalive_permit_without_calls", 0),
]
REQUIRE_LEADER = (("hasleader", "true"),)


def _range_end(key: bytes) -> bytes:
    """The end of the range of keys that start with key (etcd's prefix convention)."""
    end = bytearray(key)
    for i in range(len(end) - 1, -1, -1):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[: i + 1])
    return b"\0"


@dataclass(slots=True)
class _Stubs:
    generation: int
    endpoint: str
    channel: Any
    kv: Any
    lease: Any
    watch: Any


class _Retry(Exception):
    """An endpoint failed in a way the next endpoint may not."""


def _translate(exc: Any, what: str) -> CoordError:
    code = exc.code()
    detail = f"{what}: {exc.details()}"
    if code == grpc.StatusCode.NOT_FOUND and "lease" in (exc.details() or ""):
        return LeaseExpired(detail)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return CoordTimeout(detail)
    if code == grpc.StatusCode.UNAVAILABLE:
        return CoordUnavailable(detail)
    return CoordError(detail)


class EtcdKv(KvStore):
    def __init__(
        self,
        endpoints: Sequence[tuple[str, int]],
        *,
        namespace: str = "/hakeeper/",
        timeout: float = 3.0,
    ) -> None:
        if not endpoints:
            raise ValueError("etcd store needs at least one endpoint")
        self._endpoints = [f"{host}:{port}" for host, port in endpoints]
        self._ns = namespace.encode()
        self.timeout = timeout
        self._index = 0
        self._generation = 0
        self._stubs: _Stubs | None = None
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="hakeeper-etcd", daemon=True
        )
        self._thread.start()

    @property
    def endpoint(self) -> str:
        """The endpoint calls go to now."""
        return self._endpoints[self._index]

    # -- the loop thread ---------------------------------------------------------------------

    def _submit(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            raise CoordUnavailable("etcd store is closed")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(3 * self.timeout + 5)
        except TimeoutError:
            future.cancel()
            raise CoordTimeout("etcd call did not finish") from None

    def _current(self) -> _Stubs:
        if self._stubs is None:
            endpoint = self._endpoints[self._index]
            channel = grpc.aio.insecure_channel(endpoint, options=CHANNEL_OPTIONS)
            self._stubs = _Stubs(
                self._generation,
                endpoint,
                channel,
                rpc.KVStub(channel),
                rpc.LeaseStub(channel),
                rpc.WatchStub(channel),
            )
        return self._stubs

    async def _rotate(self, failed: _Stubs) -> None:
        """Move to the next endpoint, unless a concurrent call already moved on."""
        if self._stubs is None or self._stubs.generation != failed.generation:
            return
        self._stubs = None
        self._generation += 1
        self._index = (self._index + 1) % len(self._endpoints)
        with contextlib.suppress(Exception):
            await failed.channel.close()

    async def _call(self, what: str, fn: Callable[[_Stubs], Awaitable[T]]) -> tuple[T, bool]:
        """fn on the current endpoint, moving on through the others while they fail.

        Returns fn's result and whether an earlier attempt may have applied (it reached a
        member and then failed). Each attempt gets a third of `timeout`, and the call goes
        round the endpoints until `timeout` has passed: this rides out an etcd leader
        election, during which a proposal sent to a follower can be lost without an answer.
        """
        deadline = time.monotonic() + self.timeout
        attempts = 0
        ambiguous = False
        while True:
            stubs = self._current()
            try:
                return await fn(stubs), ambiguous
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task and task.cancelling():
                    raise
                # Not us: a failover elsewhere closed this channel under the call.
                if time.monotonic() >= deadline:
                    raise CoordUnavailable(f"{what} via {stubs.endpoint}: cut") from None
                ambiguous = True
                continue
            except grpc.aio.AioRpcError as exc:
                error = _translate(exc, f"{what} via {stubs.endpoint}")
                code = exc.code()
                if code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise error from None
                await self._rotate(stubs)
                if "failed to connect" not in (exc.details() or ""):
                    ambiguous = True
                if time.monotonic() >= deadline:
                    raise error from None
                attempts += 1
                if attempts % len(self._endpoints) == 0:
                    await asyncio.sleep(0.1)

    @property
    def _attempt_timeout(self) -> float:
        return self.timeout / 3

    def _key(self, key: str) -> bytes:
        return self._ns + key.encode()

    def _unkey(self, key: bytes) -> str:
        return key[len(self._ns) :].decode()

    # -- KvStore -----------------------------------------------------------------------------

    def get_prefix(self, prefix: str) -> tuple[int, list[Entry]]:
        key = self._key(prefix)
        request = rpc.RangeRequest(key=key, range_end=_range_end(key))

        async def call(stubs: _Stubs) -> tuple[int, list[Entry]]:
            response = await stubs.kv.Range(request, timeout=self._attempt_timeout)
            return int(response.header.revision), [
                Entry(
                    self._unkey(kv.key),
                    kv.value.decode(),
                    kv.mod_revision,
                    kv.create_revision,
                    kv.lease,
                )
                for kv in response.kvs
            ]

        return self._submit(self._call("range", call))[0]

    def _compare(self, compare: Compare) -> Any:
        if isinstance(compare, ModIs):
            return rpc.Compare(
                key=self._key(compare.key),
                result=rpc.Compare.EQUAL,
                target=rpc.Compare.MOD,
                mod_revision=compare.revision,
            )
        return rpc.Compare(
            key=self._key(compare.key),
            result=rpc.Compare.EQUAL,
            target=rpc.Compare.VALUE,
            value=compare.value.encode(),
        )

    def _op(self, op: Op) -> Any:
        if isinstance(op, Put):
            return rpc.RequestOp(
                request_put=rpc.PutRequest(
                    key=self._key(op.key),
                    value=op.value.encode(),
                    lease=op.lease,
                )
            )
        key = self._key(op.key if isinstance(op, Delete) else op.prefix)
        end = b"" if isinstance(op, Delete) else _range_end(key)
        return rpc.RequestOp(request_delete_range=rpc.DeleteRangeRequest(key=key, range_end=end))

    def txn(self, compares: Sequence[Compare], ops: Sequence[Op]) -> TxnResult:
        request = rpc.TxnRequest(
            compare=[self._compare(c) for c in compares],
            success=[self._op(o) for o in ops],
        )

        async def call(stubs: _Stubs) -> TxnResult:
            response = await stubs.kv.Txn(request, timeout=self._attempt_timeout)
            return TxnResult(bool(response.succeeded), int(response.header.revision))

        result, ambiguous = self._submit(self._call("txn", call))
        return TxnResult(result.succeeded, result.revision, ambiguous)

    def grant(self, ttl: float) -> tuple[int, float]:
        request = rpc.LeaseGrantRequest(TTL=max(1, math.ceil(ttl)), ID=0)

        async def call(stubs: _Stubs) -> tuple[int, float]:
            response = await stubs.lease.LeaseGrant(request, timeout=self._attempt_timeout)
            if response.error:
                raise CoordError(f"lease grant: {response.error}")
            return int(response.ID), float(response.TTL)

        return self._submit(self._call("lease grant", call))[0]

    def keepalive(self, lease: int) -> None:
        request = rpc.LeaseKeepAliveRequest(ID=lease)

        async def call(stubs: _Stubs) -> None:
            stream = stubs.lease.LeaseKeepAlive(iter([request]), timeout=self._attempt_timeout)
            try:
                async for response in stream:
                    if response.TTL <= 0:
                        raise LeaseExpired(f"lease {lease} expired or was revoked")
                    return
            finally:
                stream.cancel()
            raise CoordUnavailable("lease keepalive: stream ended without an answer")

        self._submit(self._call("lease keepalive", call))

    def revoke(self, lease: int) -> None:
        request = rpc.LeaseRevokeRequest(ID=lease)

        async def call(stubs: _Stubs) -> None:
            await stubs.lease.LeaseRevoke(request, timeout=self._attempt_timeout)

        with contextlib.suppress(LeaseExpired):  # already gone: that is what we wanted
            self._submit(self._call("lease revoke", call))

    def watch(self, prefix: str, after_revision: int) -> KvWatch:
        return _EtcdWatch(self, prefix, after_revision)

    def close(self) -> None:
        if self._closed:
            return

        async def shutdown() -> None:
            # Closing the channel ends its calls; then end what is left (watch loops).
            if self._stubs is not None:
                with contextlib.suppress(Exception):
                    await self._stubs.channel.close()
                self._stubs = None
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=2)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(5)
        self._closed = True
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self._loop.close()

    # -- watches -------------------------------------------------------------------------------

    async def _watch_stream(
        self, prefix: str, after: int, out: queue.SimpleQueue[list[KvEvent] | CoordError]
    ) -> None:
        """Feed out with events after `after`; whatever ends it, out hears why."""
        try:
            await self._watch_loop(prefix, after, out)
        except asyncio.CancelledError:
            raise  # the watch was closed
        except Exception as exc:  # a watch must never end in silence
            out.put(CoordError(f"watch failed: {exc!r}"))

    async def _watch_loop(
        self, prefix: str, after: int, out: queue.SimpleQueue[list[KvEvent] | CoordError]
    ) -> None:
        key = self._key(prefix)
        next_revision = after + 1
        broken_since: float | None = None
        while True:
            stubs = self._current()
            create = rpc.WatchRequest(
                create_request=rpc.WatchCreateRequest(
                    key=key,
                    range_end=_range_end(key),
                    start_revision=next_revision,
                )
            )

            async def requests(first: Any = create) -> AsyncIterator[Any]:
                yield first
                await asyncio.Event().wait()  # hold the stream open until it is cancelled

            stream = stubs.watch.Watch(requests(), metadata=REQUIRE_LEADER)
            heard = [time.monotonic()]
            watchdog = asyncio.create_task(self._watchdog(stubs, stream, key, heard))
            try:
                async for response in stream:
                    heard[0] = time.monotonic()
                    if response.compact_revision:
                        out.put(Compacted(next_revision, int(response.compact_revision)))
                        return
                    if response.canceled:
                        raise _Retry(response.cancel_reason or "watch canceled by the server")
                    broken_since = None
                    events = [
                        KvEvent(
                            int(ev.kv.mod_revision),
                            self._unkey(ev.kv.key),
                            None if ev.type == rpc.Event.DELETE else ev.kv.value.decode(),
                        )
                        for ev in response.events
                    ]
                    if events:
                        # Without fragmenting, one response carries whole revisions.
                        next_revision = events[-1].revision + 1
                        out.put(events)
                raise _Retry("watch stream ended")
            except (grpc.aio.AioRpcError, _Retry, asyncio.CancelledError) as exc:
                task = asyncio.current_task()
                if isinstance(exc, asyncio.CancelledError) and task and task.cancelling():
                    raise  # closed by us; otherwise its channel was closed by a failover
                await self._rotate(stubs)
                now = time.monotonic()
                broken_since = broken_since or now
                if now - broken_since > self.timeout:
                    out.put(CoordUnavailable(f"watch: no etcd endpoint serves it: {exc}"))
                    return
                await asyncio.sleep(0.05)
            finally:
                watchdog.cancel()
                stream.cancel()

    async def _watchdog(self, stubs: _Stubs, stream: Any, key: bytes, heard: list[float]) -> None:
        """Cancel the stream if its member stops answering.

        A frozen member, or one cut off without its TCP connections closing, keeps a watch
        stream open and silent; etcd cancels it only when the member notices it lost its
        leader, and keepalive pings take longer. So after `timeout` s of silence, ask the
        same member a linearizable read: if that fails, the stream is dead too.
        """
        probe = rpc.RangeRequest(key=key, range_end=_range_end(key), limit=1, keys_only=True)
        while True:
            await asyncio.sleep(self.timeout - (time.monotonic() - heard[0]))
            if time.monotonic() - heard[0] < self.timeout:
                continue
            try:
                await stubs.kv.Range(probe, timeout=self._attempt_timeout)
            except grpc.aio.AioRpcError:
                stream.cancel()
                return
            heard[0] = time.monotonic()


class _EtcdWatch(KvWatch):
    def __init__(self, kv: EtcdKv, prefix: str, after_revision: int) -> None:
        self._kv = kv
        self._out: queue.SimpleQueue[list[KvEvent] | CoordError] = queue.SimpleQueue()
        self._closed = False
        self._task = asyncio.run_coroutine_threadsafe(
            kv._watch_stream(prefix, after_revision, self._out), kv._loop
        )

    def next_batch(self, timeout: float | None) -> list[KvEvent]:
        if self._closed:
            return []
        try:
            item = self._out.get(timeout=timeout)
        except queue.Empty:
            return []
        if isinstance(item, CoordError):
            self.close()
            raise item
        return item

    def close(self) -> None:
        self._closed = True
        self._task.cancel()
