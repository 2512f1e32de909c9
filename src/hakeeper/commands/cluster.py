"""`cluster setup|start|stop|status`: create a cluster's configuration in the store, and
start or stop this host's node daemons (`hakeeper node run`), tracked by PID files.

No systemd here: `start` spawns each daemon in its own session with its log in the run
directory (RUN_DIR/NODE.log) and its PID in RUN_DIR/NODE.pid; `stop` sends SIGTERM and
waits for the daemon to exit; the daemon first lets the leader move (or stop) what runs on
its node, then revokes its lease (`node run --shutdown-timeout` bounds the wait).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hakeeper.cib.edit import PROPERTY_SET, check_id, set_properties
from hakeeper.cib.render import render_cib
from hakeeper.commands.cib_store import read_cib
from hakeeper.commands.env import Env
from hakeeper.coord import Conflict
from hakeeper.model.cib import Cib
from hakeeper.model.config import AttrSet, Configuration, NodeConfig
from hakeeper.model.status import Status
from hakeeper.reports import CommandError, Report, codes

FEATURE_SET = "3.16.1"  # the newest crm_feature_set Pacemaker 2.1's tools accept


@dataclass(frozen=True, slots=True)
class SetupDto:
    name: str
    nodes: tuple[str, ...]
    revision: int


def initial_cib(name: str, nodes: Sequence[str]) -> Cib:
    """A Pacemaker CIB with the nodes (ids 1..N, as corosync numbers them) and the
    properties a new cluster has: its name and infrastructure."""
    for node in nodes:
        check_id(node, "node")
    dupes = sorted({n for n in nodes if list(nodes).count(n) > 1})
    if dupes:
        raise CommandError(
            Report.error(
                codes.CIB_DUPLICATE_ID,
                "node named more than once: " + ", ".join(dupes),
                where="cluster setup",
                hint="name each node once",
            )
        )
    config = Configuration(
        crm_config=(AttrSet(PROPERTY_SET),),
        nodes=tuple(NodeConfig(str(i), n) for i, n in enumerate(nodes, 1)),
    )
    config = set_properties(config, {"cluster-infrastructure": "hakeeper", "cluster-name": name})
    root = (
        ("validate-with", "pacemaker-3.9"),
        ("epoch", "1"),
        ("num_updates", "0"),
        ("admin_epoch", "0"),
        ("crm_feature_set", FEATURE_SET),
    )
    return Cib(config, Status(), root)


def cluster_setup(env: Env, name: str, nodes: Sequence[str], *, force: bool = False) -> SetupDto:
    if not nodes:
        raise CommandError(
            Report.error(
                codes.BAD_OPTION,
                "a cluster needs at least one node",
                where="cluster setup",
                hint="hakeeper cluster setup NAME NODE [NODE...]",
            )
        )
    check_id(name, "cluster name")
    text = render_cib(initial_cib(name, nodes)).decode()
    with env.coordinator(create=True) as coord:
        existing = coord.read_config()
        if existing is not None and not force:
            raise CommandError(
                Report.error(
                    codes.CLUSTER_EXISTS,
                    f"the store {env.store} already holds a cluster configuration",
                    where="--store",
                    url=env.store,
                    hint="use another store, or pass --force to replace it (this discards its "
                    "resources and constraints)",
                )
            )
        expected = existing.revision if existing is not None else 0
        try:
            revision = coord.write_config(text, expected_revision=expected)
        except Conflict:
            raise CommandError(
                Report.error(
                    codes.CLUSTER_EXISTS,
                    "another writer created a configuration first",
                    where="--store",
                    url=env.store,
                    hint="look at it with `hakeeper status`",
                ),
                exit_code=3,
            ) from None
    return SetupDto(name, tuple(nodes), revision)


# --- this host's daemons ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DaemonDto:
    node: str
    pid: int | None
    running: bool
    changed: bool  # started or stopped by this call
    log: str


def _pid_file(env: Env, node: str) -> Path:
    return Path(env.run_dir) / f"{node}.pid"


def _log_file(env: Env, node: str) -> Path:
    return Path(env.run_dir) / f"{node}.log"


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (our exited child not yet reaped) is not running
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def _targets(env: Env, nodes: Sequence[str], all_nodes: bool) -> list[str]:
    with env.coordinator() as coord:
        known = [n.uname for n in read_cib(coord, env.store).cib.configuration.nodes]
    if all_nodes or not nodes:
        return known
    unknown = [n for n in nodes if n not in known]
    if unknown:
        raise CommandError(
            Report.error(
                codes.CIB_UNKNOWN_NODE,
                "not a node of this cluster: " + ", ".join(unknown),
                where="cluster",
                hint="nodes: " + ", ".join(known),
            )
        )
    return list(nodes)


def daemon_state(env: Env, node: str) -> DaemonDto:
    pid = _read_pid(_pid_file(env, node))
    return DaemonDto(node, pid, pid is not None and _alive(pid), False, str(_log_file(env, node)))


def cluster_start(
    env: Env,
    nodes: Sequence[str] = (),
    *,
    all_nodes: bool = False,
    command: Sequence[str] | None = None,
) -> tuple[DaemonDto, ...]:
    """Start `hakeeper node run` for each node not already running here."""
    Path(env.run_dir).mkdir(parents=True, exist_ok=True)
    results = []
    for node in _targets(env, nodes, all_nodes):
        state = daemon_state(env, node)
        if state.running:
            results.append(state)
            continue
        argv = list(command or [sys.executable, "-m", "hakeeper.cli.main"])
        argv += ["node", "run", "--name", node, "--store", env.store]
        log_path = _log_file(env, node)
        with open(log_path, "ab") as log:
            try:
                proc = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True
                )
            except OSError as err:
                raise CommandError(
                    Report.error(
                        codes.DAEMON_START_FAILED,
                        f"could not start the daemon of {node}: {err}",
                        where="cluster start",
                        node=node,
                        hint="check that hakeeper is installed for this Python",
                    )
                ) from None
        _pid_file(env, node).write_text(f"{proc.pid}\n")
        time.sleep(0.05)
        if proc.poll() is not None:
            raise CommandError(
                Report.error(
                    codes.DAEMON_START_FAILED,
                    f"the daemon of {node} exited at once (code {proc.returncode})",
                    where="cluster start",
                    node=node,
                    hint=f"read its log: {log_path}",
                )
            )
        results.append(DaemonDto(node, proc.pid, True, True, str(log_path)))
    return tuple(results)


def cluster_stop(
    env: Env, nodes: Sequence[str] = (), *, all_nodes: bool = False, timeout: float = 30.0
) -> tuple[DaemonDto, ...]:
    """SIGTERM each node's daemon started here, all at once, and wait for them to exit.

    On SIGTERM a daemon leaves gracefully: the leader moves (or, when every node is
    leaving, stops) what runs there, then it exits and its lease is revoked. Signalled
    one after the other, the nodes would pass their resources along to the next one."""
    results: dict[str, DaemonDto] = {}
    signalled: dict[str, DaemonDto] = {}
    targets = _targets(env, nodes, all_nodes)
    for node in targets:
        state = daemon_state(env, node)
        if not state.running or state.pid is None:
            _pid_file(env, node).unlink(missing_ok=True)
            results[node] = DaemonDto(node, None, False, False, state.log)
            continue
        os.kill(state.pid, signal.SIGTERM)
        signalled[node] = state
    deadline = time.monotonic() + timeout
    for node, state in signalled.items():
        assert state.pid is not None
        while _alive(state.pid):
            if time.monotonic() > deadline:
                raise CommandError(
                    Report.error(
                        codes.DAEMON_STOP_FAILED,
                        f"the daemon of {node} (pid {state.pid}) did not exit within {timeout:g} s",
                        where="cluster stop",
                        node=node,
                        hint=f"read its log ({state.log}); kill -9 {state.pid} if it hangs",
                    )
                )
            time.sleep(0.05)
        _pid_file(env, node).unlink(missing_ok=True)
        results[node] = DaemonDto(node, state.pid, False, True, state.log)
    return tuple(results[n] for n in targets)


def wait_members(
    env: Env, nodes: Sequence[str], timeout: float, *, sleep: Callable[[float], None] = time.sleep
) -> None:
    """Wait until every node holds a lease (its daemon joined), as `pcs cluster start
    --wait` waits for the nodes to come online."""
    deadline = time.monotonic() + timeout
    with env.coordinator() as coord:
        while True:
            missing = sorted(set(nodes) - coord.members().nodes)
            if not missing:
                return
            if time.monotonic() >= deadline:
                raise CommandError(
                    Report.error(
                        codes.WAIT_TIMEOUT,
                        f"not online within {timeout:g} s: " + ", ".join(missing),
                        where="cluster start --wait",
                        nodes=missing,
                        hint="read the daemons' logs in " + env.run_dir,
                    ),
                    exit_code=1,
                )
            sleep(0.1)


@dataclass(frozen=True, slots=True)
class ClusterStateDto:
    name: str | None
    revision: int
    nodes: tuple[str, ...]
    members: tuple[str, ...]
    leader: str | None
    daemons: tuple[DaemonDto, ...]


def cluster_state(env: Env) -> ClusterStateDto:
    """Configured nodes, which hold a lease, the leader, and the daemons on this host."""
    from hakeeper.cib.edit import values_of

    with env.coordinator() as coord:
        stored = read_cib(coord, env.store)
        members = coord.members()
        leader = coord.leader()
    config = stored.cib.configuration
    nodes = tuple(n.uname for n in config.nodes)
    return ClusterStateDto(
        values_of(config.crm_config).get("cluster-name"),
        stored.revision,
        nodes,
        tuple(sorted(members.nodes)),
        leader.node if leader else None,
        tuple(daemon_state(env, n) for n in nodes),
    )
