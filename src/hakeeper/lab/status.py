"""`lab status`: each node (namespace, link, processes and their memory), where each VIP
is, and the cluster as the store says it is."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from hakeeper.coord import CoordError
from hakeeper.lab import net, state, system
from hakeeper.lab import node as machine
from hakeeper.lab.cib import promoted_wanted
from hakeeper.lab.lifecycle import connect_store
from hakeeper.lab.observe import Observation, observe
from hakeeper.lab.plan import NODE_NIC, LabPlan
from hakeeper.reports import CommandError, Report, codes


@dataclass(frozen=True, slots=True)
class NodeStatus:
    name: str
    namespace: bool
    link_up: bool
    processes: tuple[tuple[str, int, bool, int | None], ...]  # name, pid, alive, RSS KiB
    in_namespace: int  # every process in its network namespace


@dataclass(frozen=True, slots=True)
class LabStatus:
    plan: LabPlan
    nodes: tuple[NodeStatus, ...]
    vips: tuple[tuple[str, str, tuple[str, ...]], ...]  # name, ip, nodes holding it
    observation: Observation | None
    store_error: str | None
    converged_after: float | None

    def to_doc(self) -> dict[str, Any]:
        obs = self.observation
        return {
            "directory": self.plan.directory,
            "profile": self.plan.profile.value,
            "store": self.plan.store_url,
            "converged_after_s": self.converged_after,
            "nodes": [
                {
                    "name": n.name,
                    "namespace": n.namespace,
                    "link_up": n.link_up,
                    "in_namespace": n.in_namespace,
                    "processes": [
                        {"name": p, "pid": pid, "alive": a, "rss_kib": rss}
                        for p, pid, a, rss in n.processes
                    ],
                }
                for n in self.nodes
            ],
            "vips": [{"name": name, "ip": ip, "on": list(on)} for name, ip, on in self.vips],
            "cluster": None
            if obs is None
            else {
                "members": list(obs.members),
                "leader": obs.leader,
                "converged": obs.converged,
                "promotions_waiting": list(obs.promotions_waiting),
                "pending": list(obs.pending_actions),
                "blocked": list(obs.blocked),
                "wanted": obs.wanted,
                "resources": [
                    {"id": i.resource, "role": i.role, "nodes": list(i.nodes), "failed": i.failed}
                    for i in obs.instances
                ],
                "failures": [
                    {
                        "node": f.node,
                        "resource": f.resource,
                        "operation": f.operation,
                        "rc": f.rc,
                        "reason": f.reason,
                    }
                    for f in obs.failures
                ],
            },
            "store_error": self.store_error,
        }


def load_lab(directory: str) -> state.LabState:
    try:
        st = state.load(directory)
    except ValueError as exc:
        raise CommandError(Report.error(codes.LAB_NOT_UP, str(exc))) from exc
    if st is None:
        raise CommandError(
            Report.error(codes.LAB_NOT_UP, f"no lab is up in {directory}", hint="hakeeper lab up")
        )
    return st


def _link_up(veth: str) -> bool:
    try:
        with open(f"/sys/class/net/{veth}/operstate") as f:
            return f.read().strip() != "down"
    except OSError:
        return False


def vip_holders(plan: LabPlan) -> list[tuple[str, str, tuple[str, ...]]]:
    held: dict[str, list[str]] = {v.ip: [] for v in plan.vips}
    for node in plan.nodes:
        if system.netns_inode(node.name) is None:
            continue
        out = system.attempt(["ip", "-n", node.name, "-o", "-4", "addr", "show", "dev", NODE_NIC])
        for line in out.stdout.splitlines():
            fields = line.split()
            if "inet" in fields:
                ip = fields[fields.index("inet") + 1].split("/")[0]
                if ip in held:
                    held[ip].append(node.name)
    return [(v.name, v.ip, tuple(held[v.ip])) for v in plan.vips]


def lab_status(directory: str) -> LabStatus:
    st = load_lab(directory)
    plan = st.plan
    nodes = []
    for node in plan.nodes:
        procs = tuple(
            (p.name, p.pid, p.alive, machine.rss_kib(p.pid) if p.alive else None)
            for p in st.node_procs(node.name).values()
        )
        nodes.append(
            NodeStatus(
                node.name,
                system.netns_inode(node.name) is not None,
                _link_up(node.veth),
                procs,
                len(system.pids_in_netns(node.name)),
            )
        )
    obs = None
    error = None
    try:
        coord = connect_store(plan)
        try:
            obs = observe(coord, len(plan.nodes), promoted_wanted(plan))
        finally:
            coord.close()
    except CoordError as exc:
        error = str(exc)
    except CommandError as exc:
        error = f"the scheduler cannot read this configuration: {exc}"
    return LabStatus(plan, tuple(nodes), tuple(vip_holders(plan)), obs, error, st.converged_after)


def render(status: LabStatus) -> list[str]:
    plan = status.plan
    lines = [
        f"lab in {plan.directory}: profile {plan.profile.value}, store "
        f"{plan.store_url.split('?')[0]}, bridge {plan.bridge} "
        f"({'up' if net.bridge_exists(plan) else 'missing'})"
    ]
    if status.converged_after is not None:
        lines.append(f"converged {status.converged_after:.1f} s after lab up began")
    lines.append("")
    for n in status.nodes:
        procs = ", ".join(
            f"{name} {pid}" + (f" {rss // 1024} MB" if rss else "") + ("" if alive else " DEAD")
            for name, pid, alive, rss in n.processes
        )
        link = "link up" if n.link_up else "LINK DOWN"
        where = "" if n.namespace else " (no namespace)"
        lines.append(
            f"  {n.name}{where}: {plan.node(n.name).internal}, {link}, "
            f"{n.in_namespace} processes; {procs}"
        )
    lines.append("")
    down = {n.name for n in status.nodes if not n.link_up or not n.namespace}
    for name, ip, on in status.vips:
        where = ", ".join(f"{n} (cut off)" if n in down else n for n in on)
        lines.append(f"  VIP {name:<13} {ip:<15} on {where or '-'}")
    lines.append("")
    obs = status.observation
    if status.store_error:
        lines.append(f"store: {status.store_error}")
    if obs is not None:
        verdict = "converged" if obs.converged else "not converged"
        lines.append(
            f"cluster: {verdict}; members {', '.join(obs.members) or '-'}; "
            f"leader {obs.leader or '-'}"
        )
        lines += list(obs.text)
        for f in obs.failures:
            lines.append(
                f"  failed: {f.operation} {f.resource} on {f.node}: rc={f.rc}"
                + (f" ({f.reason})" if f.reason else "")
            )
        if obs.pending_actions and not obs.converged:
            lines.append("  still to do: " + "; ".join(obs.pending_actions[:8]))
        elif obs.promotions_waiting:
            lines.append("  waiting for " + "; ".join(obs.promotions_waiting))
    lines.append(f"the cluster itself: hakeeper status --store '{plan.store_url}'")
    logs = f"{plan.directory}/nodes/NODE/" + "{daemon,etcd}.log"
    if os.path.isdir(plan.directory):
        lines.append(f"logs: {logs}")
    return lines
