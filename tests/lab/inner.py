"""A bench for the bundles' inner agents on the lab's namespace nodes, before the node
daemon runs bundles: hakeeper's ContainerAgent starts each replica's container (the
openstack profile's CIB, the lab's image, the node's podman and network namespace) and the
real agent (resource-agents in the image) runs inside it through the engine's exec.

The bench plays the daemons' part around the agents, and only that: one attribute socket
per node (hakeeper's AttrServer, reached by the real shims crm_attribute / crm_master /
cibadmin / crm_mon mapped into the container), the attributes every node sees, and the CIB
the shims answer, whose status records what the bench ran (so crm_mon shows a promoted
instance the way Pacemaker would). Which action runs when is the test's to say, as
Pacemaker's transition would.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

import hakeeper
from hakeeper.agents.bundle import ContainerAgent, remote_name, replica_spec
from hakeeper.agents.container import ContainerEngine, ContainerLauncher, ContainerSpec, Mount
from hakeeper.agents.ocf import DEFAULT_PATH, OcfRunner
from hakeeper.agents.request import OpRequest
from hakeeper.agents.result import OpResult
from hakeeper.cib.parse import parse_cib_text
from hakeeper.lab.cib import BundleRow, build_cib, openstack_bundles
from hakeeper.lab.node import daemon_env
from hakeeper.lab.plan import LabPlan, Node
from hakeeper.lab.state import load
from hakeeper.model.config import Agent, Bundle
from hakeeper.node.attrd import SHIMS, AttrServer

#: the worktree (src/hakeeper/..): crm_mon's shim runs `python -m hakeeper`
REPO = str(Path(hakeeper.__file__).resolve().parents[2])
#: the interpreter of this venv, wherever it is installed
PYTHON_HOME = str(Path(os.path.realpath(sys.executable)).parents[1])
ATTRD_IN_CONTAINER = "/run/hakeeper"


def _ms(text: str) -> int:
    return int(text.rstrip("s")) * 1000


@dataclass
class Replica:
    row: BundleRow
    index: int
    node: Node
    spec: ContainerSpec
    runner: OcfRunner
    last: tuple[str, int] | None = None  # the inner resource's last action and its rc
    promoted: bool = False


@dataclass
class Bench:
    plan: LabPlan
    attrs: dict[str, dict[str, str]] = field(default_factory=dict)
    cluster_attrs: dict[str, str] = field(default_factory=dict)
    replicas: dict[tuple[str, int], Replica] = field(default_factory=dict)
    servers: list[AttrServer] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.cib_text = build_cib(self.plan)
        self.config = parse_cib_text(self.cib_text).configuration
        self.rows = {r.id: r for r in openstack_bundles(self.plan)}
        for node in self.plan.nodes:
            self.attrs[node.name] = {}
            server = AttrServer(
                Path(self.plan.node_dir(node.name)) / "attrd" / "attrd.sock",
                node.name,
                lambda name, value, n=node.name: self._set(n, name, value),
                on_cluster_change=self._set_cluster,
                cib=self.cib,
                on_peer_change=self._set,
            )
            self.servers.append(server)

    # -- the daemons' part --------------------------------------------------------------

    def _set(self, node: str, name: str, value: str | None) -> None:
        with self.lock:
            if value is None:
                self.attrs[node].pop(name, None)
            else:
                self.attrs[node][name] = value
            self._push()

    def _set_cluster(self, name: str, value: str | None) -> None:
        with self.lock:
            if value is None:
                self.cluster_attrs.pop(name, None)
            else:
                self.cluster_attrs[name] = value
            self._push()

    def _push(self) -> None:
        for server in self.servers:
            server.update_view(self.attrs, self.cluster_attrs)

    def cib(self) -> bytes:
        """The configuration with a status section: the nodes online with their
        attributes, each replica's container and connection started on its node, and the
        inner resource's last action on the replica's guest node."""
        root = etree.fromstring(self.cib_text.encode())
        root.set("have-quorum", "1")
        root.set("dc-uuid", "1")
        status = root.find("status")
        assert status is not None
        with self.lock:
            attrs = {n: dict(a) for n, a in self.attrs.items()}
            replicas = list(self.replicas.values())
        for node in self.plan.nodes:
            nid = str(node.index + 1)
            state = etree.SubElement(
                status,
                "node_state",
                id=nid,
                uname=node.name,
                in_ccm="true",
                crmd="online",
                join="member",
                expected="member",
            )
            nvs = etree.SubElement(
                etree.SubElement(state, "transient_attributes", id=nid),
                "instance_attributes",
                id=f"status-{nid}",
            )
            for name, value in sorted(attrs[node.name].items()):
                etree.SubElement(nvs, "nvpair", id=f"status-{nid}-{name}", name=name, value=value)
            lrm = etree.SubElement(etree.SubElement(state, "lrm", id=nid), "lrm_resources")
            for rep in replicas:
                if rep.node.name != node.name:
                    continue
                _op(lrm, rep.spec.name, ("ocf", "heartbeat", "podman"), "start", 0)
                if rep.row.inner is not None:
                    remote = remote_name(rep.row.id, rep.index)
                    _op(lrm, remote, ("ocf", "pacemaker", "remote"), "start", 0)
        for rep in replicas:
            if rep.row.inner is None or rep.last is None:
                continue
            remote = remote_name(rep.row.id, rep.index)
            state = etree.SubElement(status, "node_state", id=remote, uname=remote)
            lrm = etree.SubElement(etree.SubElement(state, "lrm", id=remote), "lrm_resources")
            standard, _, rest = rep.row.inner.agent.partition(":")
            provider, _, kind = rest.partition(":")
            _op(lrm, rep.row.inner.id, (standard, provider, kind), *rep.last)
        return bytes(etree.tostring(root))

    # -- replicas -----------------------------------------------------------------------

    def engine(self, node: Node) -> ContainerEngine:
        holder = load(self.plan.directory).node_procs(node.name)["holder"]  # type: ignore[union-attr]
        return ContainerEngine(
            "nsenter",
            global_args=["-t", str(holder.pid), "-n", "-m", "--", "podman"],
            env=daemon_env(self.plan),
            timeout=120,
        )

    def bundle(self, bid: str) -> Bundle:
        return next(r for r in self.config.resources if isinstance(r, Bundle) and r.id == bid)

    def start_container(self, bid: str, index: int) -> Replica:
        """Replica `index` of bundle `bid` on node `index`, with what the daemon maps in for
        the inner agent: the shims, the node's attribute socket, hakeeper for crm_mon."""
        node = self.plan.nodes[index]
        spec = replica_spec(self.bundle(bid), index, netns=node.name)
        attrd_dir = f"{self.plan.node_dir(node.name)}/attrd"
        extra = (
            Mount(SHIMS, SHIMS, "ro"),
            Mount(REPO, REPO, "ro"),
            Mount(PYTHON_HOME, PYTHON_HOME, "ro"),
            Mount(attrd_dir, ATTRD_IN_CONTAINER, "rw"),
        )
        spec = ContainerSpec(
            name=spec.name,
            image=spec.image,
            network=spec.network,
            mounts=spec.mounts + extra,
            run_command=spec.run_command,
            options=spec.options,
            labels=spec.labels,
        )
        engine = self.engine(node)
        result = ContainerAgent(engine).start(spec)
        assert result.rc == 0, result
        runner = OcfRunner(
            launcher=ContainerLauncher(engine, spec.name),
            check_installed=False,
            path=f"{SHIMS}:{DEFAULT_PATH}",
            extra_env={
                "HA_SBIN_DIR": SHIMS,
                "HAKEEPER_ATTRD": f"{ATTRD_IN_CONTAINER}/attrd.sock",
                "HAKEEPER_NODE": node.name,
                "HAKEEPER_PYTHON": sys.executable,
            },
        )
        rep = Replica(self.rows[bid], index, node, spec, runner)
        with self.lock:
            self.replicas[(bid, index)] = rep
        return rep

    def run(
        self, bid: str, index: int, action: str, *, interval: str = "0s", **extra_meta: str
    ) -> OpResult:
        """One action of the inner agent of replica `index`, with the environment Pacemaker
        gives an instance inside a bundle (the guest node as on_node, the host as
        physical_host, the bundle's clone meta)."""
        rep = self.replicas[(bid, index)]
        inner = rep.row.inner
        assert inner is not None
        bundle = self.bundle(bid)
        n = len(self.plan.nodes)
        meta = {
            "container_attribute_target": "host",
            "physical_host": rep.node.name,
            "clone_max": bundle.engine_attr("replicas") or str(n),
            "clone_node_max": "1",
            "notify": "true",
            **(inner.meta or {}),
        }
        promoted = bundle.engine_attr("promoted-max")
        if promoted:
            meta.update(promotable="true", promoted_max=promoted, master_max=promoted)
            meta.update(promoted_node_max="1", master_node_max="1")
        meta.update(extra_meta)
        timeout = next(
            (t for name, iv, t, _ in inner.ops if name == action and iv == interval), "60s"
        )
        standard, _, rest = inner.agent.partition(":")
        provider, _, kind = rest.partition(":")
        request = OpRequest(
            resource=inner.id,
            action=action,
            node=remote_name(bid, index),
            agent=Agent(standard, provider, kind),
            params=inner.params,
            meta={k.replace("_", "-"): v for k, v in meta.items()},
            interval_ms=_ms(interval),
            timeout_ms=_ms(timeout),
        )
        result = rep.runner.run(request)
        if action in ("start", "promote", "demote", "stop") or (
            action == "monitor" and interval == "0s"
        ):
            with self.lock:
                rep.last = (action, int(result.rc))
                if result.rc == 0 and action in ("promote", "demote", "stop"):
                    rep.promoted = action == "promote"
        return result

    def close(self) -> None:
        for server in self.servers:
            server.close()


def _op(lrm: etree._Element, rid: str, agent: tuple[str, str, str], task: str, rc: int) -> None:
    standard, provider, kind = agent
    rsc = etree.SubElement(
        lrm, "lrm_resource", id=rid, **{"class": standard}, provider=provider, type=kind
    )
    key = f"1:1:{rc}:00000000-0000-0000-0000-000000000000"
    etree.SubElement(
        rsc,
        "lrm_rsc_op",
        id=f"{rid}_last_0",
        operation_key=f"{rid}_{task}_0",
        operation=task,
        crm_feature_set="3.16.2",
        **{"transition-key": key, "transition-magic": f"0:{rc};{key}"},
        **{"call-id": "1", "rc-code": str(rc), "op-status": "0", "interval": "0"},
    )
