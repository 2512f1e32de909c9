"""The node daemon's loop: the I/O around hakeeper.node.machine.

Threads: the main loop (feeds events to handle() and carries out its orders), one that
keeps the lease alive, one that turns the store's watch into events, and a pool that runs
agent actions. Only the main loop touches the state.

Self-fencing deadline: the lease is granted by the store for `ttl` seconds from when it
receives a keepalive, so it cannot lapse before `ttl` after the last keepalive that
succeeded was *sent*. If no keepalive has succeeded for `fence_after` (< ttl) seconds
the daemon acts as if the lease were lost -- it stops every resource -- so that the stops
begin before any other node could be granted them, as a watchdog would.

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
from hakeeper.node import machine
from hakeeper.node.attrd import AttrServer, attrd_path
from hakeeper.node.events import (
    AttributeChanged,
    Campaign,
    ClearStatus,
    ConfigChanged,
    Event,
    Instruction,
    LeaderElected,
    LeaseLost,
    MemberJoined,
    MemberLost,
    OpCompleted,
    ProcessExited,
    PublishTransition,
    RunOp,
    Say,
    StatusChanged,
    Ticked,
    WatchExit,
    WriteStatus,
)
from hakeeper.node.exits import ExitWatcher

log = logging.getLogger("hakeeper.node")


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
        self.lease_file = Path(state_dir) / f"{name}.lease" if state_dir else None
        self.confirmed = time.monotonic()  # when the last good keepalive was sent
        self.events: queue.Queue[Event] = queue.Queue()
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"op-{name}")
        self.stopping = threading.Event()
        self.exits = ExitWatcher(lambda resource: self.events.put(ProcessExited(resource)))
        self.state_dir = state_dir
        self.attrd: AttrServer | None = None
        self.render_status = render_status  # crm_mon's output, for the shim in containers
        self._state = machine.State(name)
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
        snap = self.coord.snapshot()
        watch = self.coord.watch(snap.revision)
        threads = [
            threading.Thread(target=self._keepalive, args=(lease,), daemon=True),
            threading.Thread(target=self._watch, args=(watch,), daemon=True),
        ]
        for thread in threads:
            thread.start()
        if self.state_dir is not None:
            self.attrd = AttrServer(
                attrd_path(self.state_dir, self.name),
                self.name,
                lambda n, v: self.events.put(AttributeChanged(n, v)),
                on_cluster_change=lambda n, v: self.events.put(AttributeChanged(n, v, True)),
                cib=self._cib,
                status=self.render_status,
            )
        state = machine.State(self.name, recheck_s=self.recheck_s, now=self.clock())
        self._state = state
        pending: list[Event] = list(snapshot_events(snap))
        try:
            while not self.stopping.is_set():
                state, orders = machine.handle(state, Ticked(self.clock()), *pending)
                for order in orders:
                    self._carry_out(order, lease)
                self._state = state  # what the shims' thread reads (cibadmin -Q)
                if self.attrd is not None:
                    self.attrd.update_view(
                        machine.node_attributes(state), machine.cluster_attributes(state)
                    )
                if not state.member:
                    self.pool.shutdown(wait=True)  # the self-fencing stops
                    self._forget_lease(lease)
                    return 1
                unconfirmed = time.monotonic() - self.confirmed
                if unconfirmed > self.fence_after:
                    self.log.error(
                        "%s: no keepalive succeeded for %.2f s (deadline %.2f s, "
                        "lease ttl %.1f s): fencing myself",
                        self.name,
                        unconfirmed,
                        self.fence_after,
                        self.ttl,
                    )
                    pending = [LeaseLost()]
                    continue
                wait = max(
                    0.0,
                    min(
                        machine.next_wakeup(state) - self.clock(),
                        0.5,
                        self.fence_after - unconfirmed,
                    ),
                )
                pending = self._next_events(wait)
            return 0
        finally:
            self.stopping.set()
            self.exits.close()
            if self.attrd is not None:
                self.attrd.close()
            watch.close()
            self.pool.shutdown(wait=False, cancel_futures=True)

    def stop(self) -> None:
        self.stopping.set()

    def _cib(self) -> bytes | None:
        """The cluster as this node knows it (the state is immutable: read from any thread)."""
        cib = machine.current_cib(self._state)
        return None if cib is None else render_cib(cib)

    # -- the orders ----------------------------------------------------------------------

    def _carry_out(self, order: Instruction, lease: cm.Lease) -> None:
        if isinstance(order, Say):
            self.log.info("%s: %s", self.name, order.text)
        elif isinstance(order, RunOp):
            self.pool.submit(self._run_op, order.run_id, order.request)
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
            self.log.error("%s: writing status failed (%s)", self.name, err)

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
            event = OpCompleted(
                run_id,
                int(result.rc),
                result.status.pacemaker_code,
                result.exit_reason,
                int(result.duration * 1000),
            )
        except Exception as err:
            event = OpCompleted(run_id, 1, 4, f"the runner failed: {err}")
        self.events.put(event)

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

    def _keepalive(self, lease: cm.Lease) -> None:
        # Renewed four times within the self-fencing deadline; after a failure, retried at
        # once: while etcd elects a leader no renewal succeeds, and the deadline runs.
        period = max(0.05, min(self.ttl, self.fence_after) / 4)
        wait = period
        while not self.stopping.wait(wait):
            try:
                sent = time.monotonic()
                self.coord.keepalive(lease)
                if wait != period:
                    self.log.info(
                        "%s: keepalive succeeded again, %.2f s after the last good one",
                        self.name,
                        sent - self.confirmed,
                    )
                self.confirmed = sent
                wait = period
            except LeaseExpired:
                self.events.put(LeaseLost())
                return
            except CoordError as err:
                self.log.warning("%s: keepalive failed (%s): retrying", self.name, err)
                wait = 0.05

    def _watch(self, watch: Watch) -> None:
        try:
            while not self.stopping.is_set():
                event = watch.next(0.2)
                if event is not None:
                    self.events.put(watch_event(event))
        except CoordError as err:
            if not self.stopping.is_set():
                self.log.error(
                    "%s: the watch ended (%s): stopping as if the lease were lost", self.name, err
                )
                self.events.put(LeaseLost())

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
