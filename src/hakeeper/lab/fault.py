"""`lab fail`: break a node the ways real controllers break, and heal it.

- node: power off. Every process in its network namespace is killed (daemon, etcd member,
  services, containers) and its link goes down, as a machine that loses power.
- partition: its link goes down; everything in it runs on, cut off.
- rabbit-partition: only RabbitMQ's cluster links to and from it are cut (the Erlang
  distribution port); every other service, the daemons and etcd go on talking.
- kill: one service process in it dies (SIGKILL), as a crash.
- hang: one service process in it stops (SIGSTOP): alive, holding its port, answering
  nothing, as a service stuck on a lock. Its agent's monitor (a pid check) still passes;
  only the health checks of its clients (HAProxy's) see it.
- heal: links up, port cuts removed; hung processes go on (SIGCONT); a powered-off node
  boots: its VIPs are gone (as after a reboot), then its namespace holder, etcd member
  and daemon start again. A node its fence agent powered off (all killed but its holder
  and etcd member) boots with an empty /run and nothing mounted from before, as a machine
  does; its daemon starts again.
"""

from __future__ import annotations

import os
import signal

from hakeeper.lab import net, state, system
from hakeeper.lab import node as machine
from hakeeper.lab.lifecycle import boot_node, require_root, start_node_daemon
from hakeeper.lab.plan import HOLDER_NAME, Node, StoreKind
from hakeeper.lab.state import LabState
from hakeeper.lab.status import load_lab
from hakeeper.reports import CommandError, Report, codes


def _node(st: LabState, name: str | None) -> Node:
    try:
        return st.plan.node(str(name))
    except KeyError:
        known = ", ".join(n.name for n in st.plan.nodes)
        raise CommandError(
            Report.error(
                codes.LAB_UNKNOWN_NODE, f"no lab node {name!r}", hint=f"the nodes are {known}"
            )
        ) from None


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def inject(directory: str, fault: str, target: str | None, process: str | None) -> list[str]:
    """Do it; returns one line per thing done."""
    require_root()
    st = load_lab(directory)
    if fault == "heal":
        nodes = [_node(st, target)] if target else list(st.plan.nodes)
        lines = []
        for n in nodes:
            st, done = _heal(st, n)
            lines += done
        return lines
    node = _node(st, target)
    if fault == "node":
        killed = system.kill_netns(node.name)
        net.set_link(node, False)
        return [f"{node.name}: powered off ({killed} processes killed, link down)"]
    if fault == "partition":
        net.set_link(node, False)
        return [f"{node.name}: link cut (its processes run on, unreachable)"]
    if fault == "rabbit-partition":
        peers = net.cut_port(st.plan, node, net.RABBITMQ_DIST_PORT)
        return [
            f"{node.name}: RabbitMQ's cluster links to {', '.join(peers)} cut "
            f"(port {net.RABBITMQ_DIST_PORT}); everything else flows"
        ]
    assert process is not None
    victims = [p for p in system.pids_in_netns(node.name) if _comm(p) == process[:15]]
    if not victims:
        names = sorted({_comm(p) for p in system.pids_in_netns(node.name)} - {""})
        raise CommandError(
            Report.error(
                codes.LAB_UNKNOWN_NODE,
                f"no process named {process!r} runs in {node.name}",
                hint=f"running there: {', '.join(names)}",
            )
        )
    how, verb = (signal.SIGSTOP, "hung") if fault == "hang" else (signal.SIGKILL, "killed")
    for pid in victims:
        try:
            os.kill(pid, how)
        except ProcessLookupError:
            pass
    return [f"{node.name}: {verb} {process} (pid {', '.join(map(str, victims))})"]


def _stopped(pid: int) -> bool:
    """Whether the process is stopped by a signal (state T in /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] == "T"
    except (OSError, IndexError):
        return False


def _resume(node: Node) -> list[str]:
    resumed = [p for p in system.pids_in_netns(node.name) if _stopped(p)]
    for pid in resumed:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
    names = sorted({_comm(p) for p in resumed} - {""})
    return [f"{node.name}: {', '.join(names)} going on (SIGCONT)"] if names else []


def _powered_off(node: Node) -> bool:
    """Nothing runs in the node but what its fence agent spares (etcd, the holder): it was
    fenced, or everything there stopped and its daemon exited; either way it may boot as a
    power-cycled machine, nothing being left to lose."""
    left = {_comm(p) for p in system.pids_in_netns(node.name)} - {"", "etcd", HOLDER_NAME}
    return not left


def _heal(st: LabState, node: Node) -> tuple[LabState, list[str]]:
    done = []
    procs = st.node_procs(node.name)
    holder = procs.get("holder")
    if holder is None or not holder.alive:
        # a boot: what the node had running is gone, its VIPs with it
        net.flush_vips(st.plan, node)
        net.clear_cuts(node)
        net.set_link(node, True)
        st = st.without_procs(node.name)
        st = boot_node(st.plan, st, node, etcd=st.plan.store is StoreKind.ETCD)
        st = start_node_daemon(st.plan, st, node)
        state.save(st)
        return st, [f"{node.name}: booted (etcd member and daemon started)"]
    if _powered_off(node):
        # off (its fence agent killed all it ran but the holder and etcd): it boots, and a
        # boot starts with an empty /run (podman's state of its containers with it)
        machine.reboot_volatile(st.plan, holder)
        done.append(f"{node.name}: nothing ran there: booted (/run emptied, unmounted)")
    net.set_link(node, True)
    done.append(f"{node.name}: link up")
    if net.clear_cuts(node):
        done.append(f"{node.name}: port cuts removed")
    done += _resume(node)
    if st.plan.store is StoreKind.ETCD and not (procs.get("etcd") and procs["etcd"].alive):
        st = st.with_proc(node.name, machine.start_etcd(st.plan, node, holder))
        done.append(f"{node.name}: etcd member started")
    if not (procs.get("daemon") and procs["daemon"].alive):
        st = start_node_daemon(st.plan, st, node)
        done.append(f"{node.name}: daemon started")
    state.save(st)
    return st, done
