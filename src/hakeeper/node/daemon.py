"""The node daemon's loop: the I/O around hakeeper.node.machine.

Threads: the main loop (feeds events to handle() and carries out its orders), one that
keeps the lease alive, one that turns the store's watch into events, and a pool that runs
agent actions. Only the main loop touches the state.

Self-fencing deadline: the lease is granted by the store for `ttl` seconds from when it
receives a keepalive, so it cannot lapse before `ttl` after the last keepalive that
succeeded was *sent*. If no keepalive has succeeded for `fence_after` (< ttl) seconds
the daemon acts as if the lease were lost -- it stops every resource -- so that the stops
begin before any other node could be granted them. A watchdog thread of its own checks
that deadline and starts the stops itself: the main loop may be blocked in a store call
(up to the store's timeout, longer than the deadline) when it runs out.

Graceful stop: the first stop() (SIGTERM) asks the cluster to let this node leave -- the
machine sets its `shutdown` attribute, the leader moves or stops what runs here -- and the
daemon exits 0 once nothing runs here, having deleted its status and revoked its lease so
that no one waits for it to lapse (nor fences it). Past `shutdown_timeout` it stops what
still runs here itself; a second stop() exits at once.

The lease's id is kept in STATE_DIR/NODE.lease: a daemon restarted before its lease ran
out resumes it, and the cluster never sees the node leave (its resources are adopted).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hakeeper.agents.container import ContainerEngine, ContainerError
from hakeeper.agents.request import AgentRunner, OpRequest
from hakeeper.agents.result import OcfRc, OpResult, OpStatus
from hakeeper.cib.render import render_cib
from hakeeper.coord import (
    ClusterSnapshot,
    Conflict,
    CoordError,
    Coordinator,
    LeaseExpired,
    MemberChange,
    StatusKey,
    StatusKind,
    Watch,
)
from hakeeper.coord import model as cm
from hakeeper.node import machine, permanent
from hakeeper.node.attrd import AttrServer, attrd_path
from hakeeper.node.events import (
    AttributeChanged,
    Campaign,
    CancelOp,
    ClearStatus,
    ConfigChanged,
    Event,
    Instruction,
    LeaderElected,
    LeaseLost,
    LeaveRequested,
    MemberJoined,
    MemberLost,
    OpCompleted,
    ProcessExited,
    PublishTransition,
    RunOp,
    Say,
    StatusChanged,
    StoreReread,
    Ticked,
    WatchExit,
    WriteFailed,
    WriteStatus,
)
from hakeeper.node.exits import ExitWatcher

log = logging.getLogger("hakeeper.node")

#: the last lines of a failed action's output the daemon log keeps
OUTPUT_LOG_LINES = 20


def _looks_failed(request: OpRequest, result: OpResult) -> bool:
    """Whether an action's result is one its expected answer cannot be: it timed out or
    could not run, or returned an error. "Not running" is an answer a probe or a stop
    may give (the daemon does not know what the scheduler expected of the others, so
    a recurring monitor's "not running" counts too, as it expects the resource active)."""
    if result.status is not OpStatus.DONE:
        return True
    if result.rc in (OcfRc.OK, OcfRc.RUNNING_PROMOTED):
        return False
    if result.rc == OcfRc.NOT_RUNNING:
        return request.interval_ms > 0 or request.action in ("start", "promote", "demote")
    return True


def snapshot_events(snap: ClusterSnapshot) -> Iterator[Event]:
    """The events that bring an empty state up to a snapshot of the store."""
    if snap.config is not None:
        yield ConfigChanged(snap.config.xml, snap.config.revision)
    for key, doc in sorted(
        snap.status.documents.items(), key=lambda kv: (kv[0].node, kv[0].kind.value, kv[0].name)
    ):
        yield StatusChanged(key, doc)
    for node in sorted(snap.members):
        yield MemberJoined(node)
    leader = snap.leader
    yield LeaderElected(leader.node if leader else None, leader.since if leader else snap.revision)


def reread_event(snap: ClusterSnapshot) -> StoreReread:
    leader = snap.leader
    return StoreReread(
        snap.config.xml if snap.config else None,
        snap.config.revision if snap.config else 0,
        dict(snap.status.documents),
        frozenset(snap.members),
        leader.node if leader else None,
        leader.since if leader else snap.revision,
    )


def _close_quietly(watch: Watch) -> None:
    try:
        watch.close()
    except CoordError:
        pass


def watch_event(event: cm.WatchEvent) -> Event:
    """The store's change as the state machine's event."""
    if isinstance(event, cm.ConfigChanged):
        return ConfigChanged(event.xml, event.revision)
    if isinstance(event, cm.StatusChanged):
        return StatusChanged(event.key, event.doc)
    if isinstance(event, cm.MemberChanged):
        if event.change is MemberChange.JOINED:
            return MemberJoined(event.node)
        return MemberLost(event.node)
    leader = event.leader
    return LeaderElected(
        leader.node if leader else None, leader.since if leader else event.revision
    )


class NodeDaemon:
    """One node: holds its lease, follows (or leads) the cluster, runs its actions."""

    def __init__(
        self,
        coord: Coordinator,
        name: str,
        runner: AgentRunner,
        *,
        ttl: float = 2.0,
        recheck_s: float = 60.0,
        workers: int = 8,
        state_dir: str | None = None,
        fence_after: float | None = None,
        shutdown_timeout: float = 25.0,
        clock: Callable[[], float] = time.time,
        render_status: Callable[[str, str], str] | None = None,
    ) -> None:
        self.coord = coord
        self.name = name
        self.runner = runner
        self.ttl = ttl
        self.recheck_s = recheck_s
        self.clock = clock
        # 3/4 of the ttl: outlasts an etcd leader election (~1.2 s) from ttl 2 on, and leaves
        # a quarter of the ttl for the stops before the store could expire the lease
        self.fence_after = fence_after if fence_after is not None else ttl * 0.75
        if not 0 < self.fence_after < ttl:
            raise ValueError(
                f"the self-fencing deadline ({self.fence_after} s) must be "
                f"above 0 and below the lease's ttl ({ttl} s)"
            )
        self.shutdown_timeout = shutdown_timeout
        self.leave_by: float | None = None  # when a graceful stop gives up waiting
        self.lease_file = Path(state_dir) / f"{name}.lease" if state_dir else None
        self.confirmed = time.monotonic()  # when the last good keepalive was sent
        self.events: queue.Queue[Event] = queue.Queue()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"op-{name}")
        self.stopping = threading.Event()
        self.exits = ExitWatcher(lambda resource: self.events.put(ProcessExited(resource)))
        self.state_dir = state_dir
        self.attrd: AttrServer | None = None
        self._watching: Watch | None = None  # the watch thread's current watch
        self.render_status = render_status  # crm_mon's output, for the shim in containers
        self._state = machine.State(name)
        self.fenced = threading.Event()  # the watchdog began the self-fencing stops
        self._fence_lock = threading.Lock()
        self._fence_runs: set[str] = set()  # the stops the watchdog began
        # run id -> its request, submitted to the pool and not yet over
        self._in_flight: dict[str, OpRequest] = {}
        self.log = logging.LoggerAdapter(log, {"node": name})

    def run(self) -> int:
        """Join, then loop until stop() or the loss of the lease; 0 on stop, 1 on loss."""
        lease = self._resume()
        if lease is None:
            self.coord.clear_status(self.name)
            self.log.info(
                "%s: cleared this node's old status: the leader schedules from what "
                "this daemon finds running",
                self.name,
            )
            lease = self._join()
        self._save_lease(lease)
        # the lease is renewed, and its deadline watched, from now on: the first read of
        # the store below may be slow (a member just back from a partition answers late),
        # and the join itself may have taken most of the deadline
        for target, args in ((self._keepalive, (lease,)), (self._watchdog, ())):
            threading.Thread(target=target, args=args, daemon=True).start()
        snap = self.coord.snapshot()
        watch = self._watching = self.coord.watch(snap.revision)
        threading.Thread(target=self._watch, args=(watch,), daemon=True).start()
        if self.state_dir is not None:
            self.attrd = AttrServer(
                attrd_path(self.state_dir, self.name),
                self.name,
                lambda n, v: self.events.put(AttributeChanged(n, v)),
                on_cluster_change=lambda n, v: self.events.put(AttributeChanged(n, v, True)),
                on_peer_change=lambda node, n, v: self.events.put(
                    AttributeChanged(n, v, node=node)
                ),
                cib=self._cib,
                permanent=(
                    lambda node, name: permanent.read(self.coord, node, name),
                    self._set_permanent,
                ),
                status=self.render_status,
            )
        state = machine.State(self.name, recheck_s=self.recheck_s, now=self.clock())
        self._state = state
        pending: list[Event] = list(snapshot_events(snap))
        try:
            while not self.stopping.is_set():
                if self.fenced.is_set():  # the watchdog's: before anything else
                    pending = [LeaseLost(), *pending]
                state, orders = machine.handle(state, Ticked(self.clock()), *pending)
                # what the watchdog stops and the shims' thread reads (cibadmin -Q): before
                # the orders, whose store calls may block
                self._state = state
                for order in orders:
                    self._carry_out(order, lease)
                if self.attrd is not None:
                    self.attrd.update_view(
                        machine.node_attributes(state), machine.cluster_attributes(state)
                    )
                if not state.member:
                    self._finish_fencing(state, lease)
                    if self.leave_by is not None:  # a graceful stop that ran out of time
                        self._clear_own_status()
                        self._forget_lease(lease)
                        return 0
                    self._forget_lease(lease)
                    return 1
                if state.left:
                    self.pool.shutdown(wait=True)
                    self._clear_own_status()
                    self._forget_lease(lease)
                    self.log.info("%s: left the cluster", self.name)
                    return 0
                if self.leave_by is not None and time.monotonic() > self.leave_by:
                    self.log.error(
                        "%s: could not leave within %.0f s: stopping what still runs here",
                        self.name,
                        self.shutdown_timeout,
                    )
                    pending = [LeaseLost()]
                    continue
                wait = max(0.0, min(machine.next_wakeup(state) - self.clock(), 0.5))
                pending = self._next_events(wait)
            return 0
        finally:
            self.stopping.set()
            self.exits.close()
            if self.attrd is not None:
                self.attrd.close()
            if self._watching is not None:
                _close_quietly(self._watching)
            self.pool.shutdown(wait=False, cancel_futures=True)

    def stop(self) -> None:
        """First call: leave gracefully (resources move first); second: exit at once."""
        if self.leave_by is not None:
            self.stopping.set()
            return
        self.leave_by = time.monotonic() + self.shutdown_timeout
        self.events.put(LeaveRequested())

    def _clear_own_status(self) -> None:
        """Nothing runs here: without history, the leader sees a cleanly stopped node."""
        try:
            self.coord.clear_status(self.name)
        except CoordError as err:
            self.log.warning("%s: could not clear this node's status (%s)", self.name, err)

    def _finish_fencing(self, state: machine.State, lease: cm.Lease) -> None:
        """Wait for the actions in flight when the lease was lost (a start that ends now
        is stopped at once), then for the stops."""
        deadline = time.monotonic() + max(
            (r.action.timeout_ms / 1000 for r in state.running.values()), default=0.0
        )
        while self._in_flight and time.monotonic() < deadline + 5:
            state, orders = machine.handle(state, Ticked(self.clock()), *self._next_events(0.2))
            for order in orders:
                if isinstance(order, RunOp | Say):
                    self._carry_out(order, lease)
        self.pool.shutdown(wait=True)  # the self-fencing stops

    def _set_permanent(self, node: str, name: str, value: str | None) -> None:
        written = permanent.write(self.coord, node, name, value)
        if written is permanent.Written.LOST:
            raise RuntimeError("other edits of the configuration won every attempt")
        if written is permanent.Written.NO_CONFIGURATION:
            raise RuntimeError("no configuration is stored yet")
        if written is permanent.Written.UNCHANGED:
            return  # an agent's monitor repeats what it set (rabbitmq-cluster's, each time)
        self.log.info(
            "%s: permanent attribute %s of %s %s in the configuration",
            self.name,
            name,
            node,
            "deleted" if value is None else f"set to {value}",
        )

    def _cib(self) -> bytes | None:
        """The cluster as this node knows it (the state is immutable: read from any thread)."""
        cib = machine.current_cib(self._state)
        return None if cib is None else render_cib(cib)

    # -- the orders ----------------------------------------------------------------------

    def _carry_out(self, order: Instruction, lease: cm.Lease) -> None:
        if isinstance(order, Say):
            self.log.info("%s: %s", self.name, order.text)
        elif self.fenced.is_set():
            # the watchdog began the self-fencing: no store call (each may hang), and no
            # agent action but the stops it did not begin itself
            if isinstance(order, RunOp) and order.run_id.startswith(machine.SELF_FENCE):
                if order.run_id not in self._fence_runs:
                    self._submit(order.run_id, order.request)
        elif isinstance(order, RunOp):
            self._submit(order.run_id, order.request)
        elif isinstance(order, CancelOp):
            request = self._in_flight.get(order.run_id)
            cancel = getattr(self.runner, "cancel", None)
            if request is not None and callable(cancel):
                cancel(request)
        elif isinstance(order, WriteStatus):
            self._write(dict(order.changes), lease)
        elif isinstance(order, PublishTransition):
            key = StatusKey(self.name, StatusKind.ATTRIBUTES, machine.TRANSITION)
            self._write({key: order.transition.to_doc()}, lease)
        elif isinstance(order, Campaign):
            try:
                self.coord.campaign(lease)
            except LeaseExpired:
                self.events.put(LeaseLost())
            except CoordError as err:
                self.log.warning(
                    "%s: campaign failed (%s): retrying on the next change", self.name, err
                )
        elif isinstance(order, WatchExit):
            request = order.request
            if request is not None and (request.container or request.connection):
                return  # its pid file is inside a container: its monitors watch it
            if request is not None and request.replica is not None:
                self.pool.submit(self._watch_container, order.resource, request.replica.name)
                return
            if order.request is None:
                self.exits.forget(order.resource)
            else:
                self.exits.watch(order.resource, order.request)
        elif isinstance(order, ClearStatus):
            try:
                self.coord.clear_status(order.node)
            except CoordError as err:
                self.log.error(
                    "%s: clearing the status of %s failed (%s)", self.name, order.node, err
                )

    def _write(self, changes: dict[StatusKey, cm.JsonDoc | None], lease: cm.Lease) -> None:
        try:
            self.coord.write_status(changes, lease=lease)
        except LeaseExpired:
            self.events.put(LeaseLost())
        except CoordError as err:
            # the machine counts them written: it writes them again
            self.log.error("%s: writing status failed (%s)", self.name, err)
            self.events.put(WriteFailed(frozenset(changes)))

    def _submit(self, run_id: str, request: OpRequest) -> None:
        self._in_flight[run_id] = request
        self.pool.submit(self._run_op, run_id, request)

    def _watch_container(self, resource: str, name: str) -> None:
        """A bundle container's init process, by the engine's inspect: when the container
        dies its monitor runs at once."""
        engine = getattr(self.runner, "engine", None)
        if not isinstance(engine, ContainerEngine):
            return
        try:
            pid = engine.inspect(name).pid
        except ContainerError:
            return
        self.exits.watch_pid(resource, pid)

    def _run_op(self, run_id: str, request: OpRequest) -> None:
        try:
            result = self.runner.run(request)
            if _looks_failed(request, result) and result.output:
                self._log_output(request, result)
            event = OpCompleted(
                run_id,
                int(result.rc),
                result.status.pacemaker_code,
                result.exit_reason,
                int(result.duration * 1000),
            )
        except Exception as err:
            event = OpCompleted(run_id, 1, 4, f"the runner failed: {err}")
        self._in_flight.pop(run_id, None)
        self.events.put(event)

    def _log_output(self, request: OpRequest, result: OpResult) -> None:
        """The end of what a failed action printed (its ocf_log lines go to stderr), as
        Pacemaker's executor logs an agent's output: one record per line, the op named."""
        lines = [line for line in result.output.splitlines() if line.strip()]
        if len(lines) > OUTPUT_LOG_LINES:
            self.log.warning(
                "%s: %s output: (%d earlier lines left out)",
                self.name,
                request.key,
                len(lines) - OUTPUT_LOG_LINES,
            )
        for line in lines[-OUTPUT_LOG_LINES:]:
            self.log.warning("%s: %s output: %s", self.name, request.key, line.rstrip())

    # -- the threads ---------------------------------------------------------------------

    def _resume(self) -> cm.Lease | None:
        """The lease an earlier run of this daemon left alive, if it still is."""
        if self.lease_file is None:
            return None
        try:
            saved = json.loads(self.lease_file.read_text())
            lease = cm.Lease(self.name, int(saved["id"]), float(saved["ttl"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        sent = time.monotonic()
        try:
            self.coord.keepalive(lease)
            if self.name not in self.coord.members().nodes:
                return None
        except CoordError:
            return None
        self.confirmed = sent
        self.log.info(
            "%s: resumed the lease of the previous run (id %d): the cluster did "
            "not see this node leave",
            self.name,
            lease.id,
        )
        return lease

    def _save_lease(self, lease: cm.Lease) -> None:
        if self.lease_file is None:
            return
        self.lease_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.lease_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"id": lease.id, "ttl": lease.ttl}))
        os.replace(tmp, self.lease_file)

    def _forget_lease(self, lease: cm.Lease) -> None:
        try:
            self.coord.leave(lease)  # the others need not wait for it to lapse
        except CoordError as err:
            self.log.warning(
                "%s: could not revoke the lease (%s): it lapses by itself", self.name, err
            )
        if self.lease_file is not None:
            self.lease_file.unlink(missing_ok=True)

    def _join(self) -> cm.Lease:
        while True:
            try:
                sent = time.monotonic()
                lease = self.coord.join(self.name, self.ttl)
                self.confirmed = sent
                self.log.info("%s: joined with a lease of %.1f s", self.name, self.ttl)
                return lease
            except Conflict:
                self.log.info(
                    "%s: an earlier lease still holds this name: waiting for it to lapse", self.name
                )
                time.sleep(self.ttl / 4)

    def _watchdog(self) -> None:
        """The self-fencing deadline, on a thread that makes no blocking call."""
        tick = min(0.05, self.fence_after / 8)
        while not self.stopping.wait(tick):
            unconfirmed = time.monotonic() - self.confirmed
            if unconfirmed > self.fence_after:
                self._self_fence(unconfirmed)
                return

    def _self_fence(self, unconfirmed: float) -> None:
        """Stop what the last state says runs here, from this thread, then tell the loop."""
        with self._fence_lock:
            if self.fenced.is_set():
                return
            self.log.error(
                "%s: no keepalive succeeded for %.2f s (deadline %.2f s, lease ttl %.1f s): "
                "fencing myself",
                self.name,
                unconfirmed,
                self.fence_after,
                self.ttl,
            )
            _, orders = machine.handle(self._state, LeaseLost())
            for order in orders:
                if isinstance(order, Say):
                    self.log.info("%s: %s", self.name, order.text)
                elif isinstance(order, RunOp):
                    self._fence_runs.add(order.run_id)
                    self._submit(order.run_id, order.request)
            self.fenced.set()
        self.events.put(LeaseLost())  # the loop, once free, hears it and exits

    def _keepalive(self, lease: cm.Lease) -> None:
        # Renewed four times within the self-fencing deadline; after a failure, retried at
        # once: while etcd elects a leader no renewal succeeds, and the deadline runs. The
        # first renewal is due a period after the join was sent, at once if it was slow.
        period = max(0.05, min(self.ttl, self.fence_after) / 4)
        wait = max(0.0, period - (time.monotonic() - self.confirmed))
        failing = False
        while not self.stopping.wait(wait):
            try:
                sent = time.monotonic()
                self.coord.keepalive(lease)
                if failing:
                    self.log.info(
                        "%s: keepalive succeeded again, %.2f s after the last good one",
                        self.name,
                        sent - self.confirmed,
                    )
                self.confirmed = sent
                wait, failing = period, False
            except LeaseExpired:
                self.events.put(LeaseLost())
                return
            except CoordError as err:
                self.log.warning("%s: keepalive failed (%s): retrying", self.name, err)
                wait, failing = 0.05, True

    def _watch(self, watch: Watch) -> None:
        """Turn the watch into events; when it fails (its member lost, history compacted,
        a reset connection), read the store again and watch on from that read."""
        self._watching = watch
        while not self.stopping.is_set():
            try:
                event = watch.next(0.2)
            except CoordError as err:
                if self.stopping.is_set():
                    return
                self.log.warning(
                    "%s: the watch failed (%s): reading the store again and watching on from there",
                    self.name,
                    err,
                )
                _close_quietly(watch)
                rewatched = self._rewatch()
                if rewatched is None:
                    return
                watch = self._watching = rewatched
                continue
            if event is not None:
                self.events.put(watch_event(event))

    def _rewatch(self) -> Watch | None:
        """A fresh snapshot (as a StoreReread event) and a watch from its revision; retried
        until both succeed or the daemon stops."""
        while not self.stopping.is_set():
            try:
                snap = self.coord.snapshot()
                watch = self.coord.watch(snap.revision)
            except CoordError as err:
                self.log.warning("%s: reading the store failed (%s): retrying", self.name, err)
                self.stopping.wait(0.2)
                continue
            self.events.put(reread_event(snap))
            return watch
        return None

    def _next_events(self, wait: float) -> list[Event]:
        try:
            events = [self.events.get(timeout=wait)]
        except queue.Empty:
            return []
        while len(events) < 1000:
            try:
                events.append(self.events.get_nowait())
            except queue.Empty:
                break
        return events
