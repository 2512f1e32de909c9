"""`lab up` and `lab down`: make the lab step by step, recording each thing before it is
made, and undo all of it."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from hakeeper.coord import CoordError, Coordinator, connect
from hakeeper.lab import files, images, net, ready, state, system
from hakeeper.lab import node as machine
from hakeeper.lab.cib import promoted_wanted
from hakeeper.lab.observe import Observation, observe
from hakeeper.lab.plan import LabPlan, Node, Profile, StoreKind
from hakeeper.lab.state import LabState
from hakeeper.lab.support import daemon_gap
from hakeeper.reports import CommandError, Report, codes

#: called with one line per step: what happened, seconds since `lab up` began
Progress = Callable[[str, float], None]


@dataclass(frozen=True, slots=True)
class UpResult:
    plan: LabPlan
    converged: bool
    seconds: float  # from the start to converged (or to giving up)
    image_seconds: float | None  # None: not needed (minimal); else the build or cache check
    image_built: bool
    observation: Observation | None


def require_root() -> None:
    if os.geteuid() != 0:
        raise CommandError(
            Report.error(
                codes.LAB_NOT_ROOT,
                "the lab makes network namespaces, a bridge and mounts: it needs root",
                hint="run it as root (sudo hakeeper lab ...)",
            )
        )


def require_tools(plan: LabPlan) -> None:
    needed = ["ip", "nsenter", "unshare", "busybox"]
    if plan.store is StoreKind.ETCD:
        needed.append("etcd")
    if plan.profile is Profile.OPENSTACK:
        needed.append("podman")
    else:
        needed += ["haproxy", "redis-server"]
    missing = [t for t in needed if shutil.which(t, path=system.PATH) is None]
    if missing:
        raise CommandError(
            Report.error(
                codes.LAB_MISSING_TOOL,
                f"not installed: {', '.join(missing)}",
                hint="make install (it installs the Debian packages the lab needs)",
                missing=missing,
            )
        )


def _check_reachable(plan: LabPlan) -> None:
    """Services drop root (redis runs as user redis): every directory above the lab's must
    let others through, or they cannot read their configuration."""
    path = os.path.dirname(plan.directory)
    while path not in ("", "/"):
        if os.path.isdir(path) and not os.stat(path).st_mode & 0o001:
            raise CommandError(
                Report.error(
                    codes.BAD_OPTION,
                    f"{path} lets no other user through (mode "
                    f"{oct(os.stat(path).st_mode & 0o777)}): services that drop root "
                    f"could not read their files in {plan.directory}",
                    hint=f"chmod o+x {path}, or choose another --dir",
                )
            )
        path = os.path.dirname(path)


def _check_free(plan: LabPlan) -> None:
    taken = [n.name for n in plan.nodes if system.netns_inode(n.name) is not None]
    if net.bridge_exists(plan):
        taken.append(plan.bridge)
    if taken:
        raise CommandError(
            Report.error(
                codes.LAB_NAME_TAKEN,
                f"{', '.join(taken)} already exist(s) and this lab did not make them",
                hint="remove them (ip netns del NAME / ip link del NAME) or choose other names",
                names=taken,
            )
        )


def connect_store(plan: LabPlan) -> Coordinator:
    return connect(plan.store_url)


def machines_up(plan: LabPlan, progress: Progress) -> LabState:
    """Only the machines of the lab (make_machines, no etcd, store or daemon): a bench on
    which to run services by hand. `lab down` removes it as it removes a lab."""
    require_root()
    require_tools(plan)
    _check_free(plan)
    _check_reachable(plan)
    began = time.monotonic()
    st = LabState(
        plan, len(plan.nodes), plan.nodes[0].name.rstrip("0123456789"), started_at=time.time()
    )
    state.save(st)
    try:
        st, _ = make_machines(
            plan, st, lambda text: progress(text, time.monotonic() - began), etcd=False
        )
    except BaseException:
        lab_down(plan.directory, lambda text, s: None)
        raise
    return st


def lab_up(plan: LabPlan, progress: Progress, *, timeout: float = 300.0) -> UpResult:
    """Bring the lab up; on a failure before the daemons run, undo everything made."""
    require_root()
    require_tools(plan)
    try:
        existing = state.load(plan.directory)
    except ValueError as exc:
        raise CommandError(
            Report.error(codes.LAB_EXISTS, str(exc), hint="hakeeper lab down removes it")
        ) from exc
    if existing is not None:
        raise CommandError(
            Report.error(
                codes.LAB_EXISTS,
                f"a lab is already up in {plan.directory}",
                hint="hakeeper lab status shows it; hakeeper lab down removes it",
            )
        )
    _check_free(plan)
    _check_reachable(plan)
    began = time.monotonic()

    def say(text: str) -> None:
        progress(text, time.monotonic() - began)

    gap = daemon_gap(plan)
    if gap:
        say(f"warning: {gap}; the lab comes up but will not converge")

    st = LabState(
        plan, len(plan.nodes), plan.nodes[0].name.rstrip("0123456789"), started_at=time.time()
    )
    state.save(st)
    try:
        st, built = _make(plan, st, say)
    except BaseException:
        say("failed: removing what was made")
        lab_down(plan.directory, lambda text, s: None)
        raise
    return _converge(plan, st, say, began, timeout, built)


def _make(
    plan: LabPlan, st: LabState, say: Callable[[str], None]
) -> tuple[LabState, images.BuildResult | None]:
    st, result = make_machines(plan, st, say, etcd=plan.store is StoreKind.ETCD)
    say("etcd members started" if plan.store is StoreKind.ETCD else "sqlite store")
    coord = _wait_store(plan, say)
    try:
        for node in plan.nodes:
            st = start_node_daemon(plan, st, node)
        say("node daemons started")
        # the configuration once every node has joined (as `pcs cluster start --all` then
        # `pcs cluster cib-push`): the leader's first graph then places every node's share
        # at once; a node joining after it aborts that graph, and its starts wait for the
        # actions in flight (galera's take tens of seconds)
        _wait_members(plan, coord, say)
        from hakeeper.lab.cib import build_cib

        xml = build_cib(plan)
        current = coord.read_config()
        coord.write_config(xml, expected_revision=current.revision if current else 0)
        with open(f"{plan.directory}/cib.xml", "w") as f:
            f.write(xml)
    finally:
        coord.close()
    say(f"configuration loaded: profile {plan.profile.value} ({plan.directory}/cib.xml)")
    return st, result


def _wait_members(
    plan: LabPlan, coord: Coordinator, say: Callable[[str], None], timeout: float = 30.0
) -> None:
    """Until every node's daemon holds a lease, or `timeout` (then the cluster goes on
    with those that did, and the others join later)."""
    names = {n.name for n in plan.nodes}
    deadline = time.monotonic() + timeout
    joined: frozenset[str] = frozenset()
    while time.monotonic() < deadline:
        try:
            joined = coord.members().nodes & names
        except CoordError:
            joined = frozenset()
        if joined == names:
            say(f"{len(names)}/{len(names)} nodes joined")
            return
        time.sleep(0.1)
    missing = ", ".join(sorted(names - joined))
    say(f"{len(joined)}/{len(names)} nodes joined after {timeout:g} s (not {missing}): going on")


def make_machines(
    plan: LabPlan, st: LabState, say: Callable[[str], None], *, etcd: bool
) -> tuple[LabState, images.BuildResult | None]:
    """The nodes as machines: bridge, namespaces, their files, the images (openstack),
    the holders and (etcd) the etcd members; no store and no daemon yet."""
    st = replace(st, bridge_made=True)
    state.save(st)
    net.make_bridge(plan)
    say(f"bridge {plan.bridge}: " + ", ".join(cidr for _, cidr in plan.nets))
    for node in plan.nodes:
        st = replace(st, namespaces=(*st.namespaces, node.name))
        state.save(st)
        net.make_node(plan, node)
        system.run(
            ["ip", "netns", "exec", node.name, "sysctl", "-qw", "net.ipv4.ip_nonlocal_bind=1"]
        )
    say(
        f"namespaces {', '.join(n.name for n in plan.nodes)}: eth0 at "
        + ", ".join(n.internal for n in plan.nodes)
    )
    result = None
    if plan.profile is Profile.OPENSTACK:
        result = images.ensure_images(plan.cache, say)
        say(
            ("built" if result.built else "found cached") + " the images "
            f"({', '.join(images.SERVICES)}) in {result.seconds:.1f} s"
        )
    for node in plan.nodes:  # after the images: some files belong to the image's users
        files.write_node_files(plan, node)
    files.write_podman_conf(plan)
    for node in plan.nodes:
        st = boot_node(plan, st, node, etcd=etcd)
    return st, result


def boot_node(plan: LabPlan, st: LabState, node: Node, *, etcd: bool) -> LabState:
    holder = machine.start_holder(plan, node)
    st = st.with_proc(node.name, holder)
    state.save(st)
    if etcd:
        st = st.with_proc(node.name, machine.start_etcd(plan, node, holder))
        state.save(st)
    return st


def start_node_daemon(plan: LabPlan, st: LabState, node: Node) -> LabState:
    holder = st.node_procs(node.name)["holder"]
    st = st.with_proc(node.name, machine.start_daemon(plan, node, holder))
    state.save(st)
    return st


def _wait_store(plan: LabPlan, say: Callable[[str], None], timeout: float = 30.0) -> Coordinator:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            coord = connect_store(plan)
        except CoordError as exc:
            last = exc
            time.sleep(0.2)
            continue
        try:
            coord.read_config()
            say("store answers: " + plan.store_url.split("?")[0])
            return coord
        except CoordError as exc:
            last = exc
            coord.close()
            time.sleep(0.2)
    raise CommandError(
        Report.error(
            codes.LAB_STEP_FAILED,
            f"the store did not answer in {timeout:g} s: {last}",
            hint=f"see {plan.directory}/nodes/*/etcd.log",
        )
    )


def _converge(
    plan: LabPlan,
    st: LabState,
    say: Callable[[str], None],
    began: float,
    timeout: float,
    built: images.BuildResult | None,
) -> UpResult:
    image_seconds = built.seconds if built else None
    image_built = bool(built and built.built)
    coord = connect_store(plan)
    last_line = ""
    obs: Observation | None = None
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                obs = observe(coord, len(plan.nodes), promoted_wanted(plan))
            except CoordError as exc:
                line = f"waiting for the store: {exc}"
            except CommandError as exc:
                # the daemons' leader meets the same refusal: waiting changes nothing
                say(f"the scheduler cannot take this configuration yet: {exc}")
                return UpResult(
                    plan, False, time.monotonic() - began, image_seconds, image_built, None
                )
            else:
                readiness = ready.probe(plan) if obs.converged else None
                if readiness is not None and readiness.ready:
                    seconds = time.monotonic() - began
                    st = replace(st, converged_after=seconds)
                    state.save(st)
                    say(
                        f"converged: {obs.active} resource instances active, leader "
                        f"{obs.leader}; HAProxy serves every VIP"
                    )
                    return UpResult(plan, True, seconds, image_seconds, image_built, obs)
                line = (
                    "resources converged; waiting for " + ", ".join(readiness.waiting_for[:3])
                    if readiness is not None
                    else _waiting(plan, obs)
                )
            if line != last_line:
                say(line)
                last_line = line
            time.sleep(0.25)
    finally:
        coord.close()
    say(f"not converged after {timeout:g} s")
    return UpResult(plan, False, time.monotonic() - began, image_seconds, image_built, obs)


def _waiting(plan: LabPlan, obs: Observation) -> str:
    line = (
        f"waiting: {len(obs.members)}/{len(plan.nodes)} nodes joined, "
        f"leader {obs.leader or '-'}, {obs.active}/{obs.wanted} "
        f"resource instances active"
    )
    if obs.active >= obs.wanted and obs.pending_actions:
        line += "; still to do: " + "; ".join(obs.pending_actions[:4])
    if obs.blocked:
        line += "; blocked: " + "; ".join(obs.blocked[:4])
    if obs.promotions_waiting:
        line += "; waiting for " + "; ".join(obs.promotions_waiting)
    if obs.failures:
        f = obs.failures[-1]
        line += (
            f"; {len(obs.failures)} failed op(s), last: {f.operation} "
            f"{f.resource} on {f.node} rc={f.rc} {f.reason or ''}"
        ).rstrip()
    return line


# -- down ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DownResult:
    directory: str
    removed: tuple[str, ...]
    leftovers: tuple[str, ...]  # what could not be removed (should be empty)


def lab_down(
    directory: str, progress: Progress, *, purge: bool = False, cache: str | None = None
) -> DownResult:
    """Remove every namespace, process, address, mount and file the lab made; with
    `purge`, its image cache too."""
    require_root()
    began = time.monotonic()
    try:
        st = state.load(directory)
    except ValueError as exc:
        raise CommandError(
            Report.error(codes.LAB_NOT_UP, str(exc), hint="remove the directory by hand")
        ) from exc
    removed: list[str] = []
    if st is None:
        if purge and cache:
            images.remove_store(cache)
            removed.append(f"image cache {cache}")
            return DownResult(directory, tuple(removed), ())
        raise CommandError(
            Report.error(
                codes.LAB_NOT_UP,
                f"no lab is recorded in {directory}",
                hint="hakeeper lab up makes one",
            )
        )
    plan = st.plan
    # the containers killed below never tell podman they ended: their cgroups stay behind
    # unless removed here (podman's cgroupfs manager; runc removes one only on a delete)
    cgroups = system.container_cgroups(_container_ids(plan))
    for node in plan.nodes:
        if node.name not in st.namespaces:
            continue
        system.kill_all([p.pid for n, p in st.procs if n == node.name and p.alive])
        killed = system.kill_netns(node.name)
        net.remove_node(node)
        removed.append(f"{node.name} ({killed} processes)")
    for _, proc in st.procs:  # anything recorded that left the namespace
        if proc.alive:
            system.kill_all([proc.pid])
    if st.bridge_made:
        net.remove_bridge(plan)
        removed.append(f"bridge {plan.bridge}")
    stayed = system.remove_cgroups(cgroups)
    if cgroups:
        removed.append(f"{len(cgroups) - len(stayed)} container cgroups")
    _unmount_under(plan.directory)
    files.remove_lab_dir(plan)
    removed.append(plan.directory)
    if purge:
        images.remove_store(plan.cache)
        removed.append(f"image cache {plan.cache}")
    progress(f"removed {', '.join(removed)}", time.monotonic() - began)
    return DownResult(
        directory, tuple(removed), (*leftovers(plan), *(f"cgroup {p}" for p in stayed))
    )


def _container_ids(plan: LabPlan) -> list[str]:
    """The ids of every container the nodes' podman made (its storage lists each)."""
    ids: list[str] = []
    for node in plan.nodes:
        try:
            names = os.listdir(f"{plan.node_dir(node.name)}/containers/overlay-containers")
        except OSError:
            continue
        ids += [n for n in names if len(n) == 64 and all(c in "0123456789abcdef" for c in n)]
    return ids


def _mounts() -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f]


def _unmount_under(directory: str) -> None:
    for point in sorted(_mounts(), key=len, reverse=True):
        if point == directory or point.startswith(directory + "/"):
            system.attempt(["umount", "-l", point])


def _self_and_ancestors() -> set[int]:
    """This process and those that started it: a `lab down --dir DIR` names the lab's
    directory on its own command line (and so may a wrapper such as timeout)."""
    found: set[int] = set()
    pid = os.getpid()
    while pid > 1 and pid not in found:
        found.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return found


def leftovers(plan: LabPlan) -> list[str]:
    """Anything of the lab still on the host: namespaces, links, addresses, processes,
    mounts, files. Empty after a clean `lab down`."""
    found = [f"netns {n.name}" for n in plan.nodes if system.netns_inode(n.name) is not None]
    found += [f"link {n.veth}" for n in plan.nodes if os.path.exists(f"/sys/class/net/{n.veth}")]
    if net.bridge_exists(plan):
        found.append(f"bridge {plan.bridge}")
    found += [f"address {a}" for a in net.host_addresses(plan)]
    found += [
        f"mount {m}"
        for m in _mounts()
        if m.startswith(plan.directory) or any(m == f"/run/netns/{n.name}" for n in plan.nodes)
    ]
    mine = _self_and_ancestors()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in mine:
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if plan.directory in cmd or (
                "hakeeper.cli.main node run" in cmd and any(n.internal in cmd for n in plan.nodes)
            ):
                found.append(f"process {entry}: {cmd[:100]}")
    if os.path.exists(plan.directory):
        found.append(f"directory {plan.directory}")
    return found
