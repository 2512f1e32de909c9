"""Bundle replicas: Pacemaker's names, the container a replica runs in, and its start/stop/monitor.

Pacemaker names replica i of bundle B on engine E: container `B-E-i` (galera-bundle-podman-0)
and remote node `B-i` (galera-bundle-0); a storage mapping's source-dir-root gets the
remote node's name appended, so each replica has its own directory.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Mapping
from typing import Any

from hakeeper.agents.container import (
    ContainerEngine,
    ContainerError,
    ContainerLauncher,
    ContainerSpec,
    Mount,
    State,
)
from hakeeper.agents.ocf import OcfRunner
from hakeeper.agents.result import OcfRc, OpResult, OpStatus, failed
from hakeeper.model.config import Bundle

NETNS_DIR = "/run/netns"
LABEL_BUNDLE = "hakeeper.bundle"
LABEL_REPLICA = "hakeeper.replica"


def container_name(bundle_id: str, engine: str, index: int) -> str:
    return f"{bundle_id}-{engine}-{index}"


def remote_name(bundle_id: str, index: int) -> str:
    return f"{bundle_id}-{index}"


def replica_spec(bundle: Bundle, index: int, *, netns: str | None = None) -> ContainerSpec:
    """The container of replica `index`. netns: the node's network namespace (the lab);
    network="host" then means that namespace. Raises ValueError if the bundle has no image."""
    image = bundle.engine_attr("image")
    if not image:
        raise ValueError(f"bundle {bundle.id} has no image")
    network = bundle.engine_attr("network") or "none"
    if network == "host" and netns:
        network = f"ns:{NETNS_DIR}/{netns}"
    mounts = []
    for mapping in bundle.storage:
        attrs = dict(mapping)
        source = attrs.get("source-dir")
        per_replica = source is None and bool(attrs.get("source-dir-root"))
        if per_replica:
            source = f"{attrs['source-dir-root'].rstrip('/')}/{remote_name(bundle.id, index)}"
        if source and attrs.get("target-dir"):
            mounts.append(
                Mount(source, attrs["target-dir"], attrs.get("options", ""), create=per_replica)
            )
    run_command = bundle.engine_attr("run-command")
    return ContainerSpec(
        name=container_name(bundle.id, bundle.engine, index),
        image=image,
        network=network,
        mounts=tuple(mounts),
        run_command=tuple(shlex.split(run_command)) if run_command else (),
        options=tuple(shlex.split(bundle.engine_attr("options") or "")),
        labels={LABEL_BUNDLE: bundle.id, LABEL_REPLICA: str(index)},
    )


def spec_doc(spec: ContainerSpec) -> dict[str, Any]:
    """A container spec as JSON-ready data (in a published transition)."""
    return {
        "name": spec.name,
        "image": spec.image,
        "network": spec.network,
        "mounts": [[m.source, m.target, m.options, m.create] for m in spec.mounts],
        "run_command": list(spec.run_command),
        "options": list(spec.options),
        "env": dict(spec.env),
        "labels": dict(spec.labels),
    }


def spec_from_doc(doc: Mapping[str, Any]) -> ContainerSpec:
    return ContainerSpec(
        name=str(doc["name"]),
        image=str(doc["image"]),
        network=str(doc.get("network", "host")),
        mounts=tuple(
            Mount(str(src), str(dst), str(opts or ""), bool(create))
            for src, dst, opts, create in doc.get("mounts", ())
        ),
        run_command=tuple(str(w) for w in doc.get("run_command", ())),
        options=tuple(str(w) for w in doc.get("options", ())),
        env={str(k): str(v) for k, v in (doc.get("env") or {}).items()},
        labels={str(k): str(v) for k, v in (doc.get("labels") or {}).items()},
    )


def on_node(spec: ContainerSpec, netns: str | None, extra: tuple[Mount, ...] = ()) -> ContainerSpec:
    """The spec as this node runs it: network "host" is the node's namespace when the node
    is one (the lab), and the node's own mounts (the agents' shims) are added."""
    network = spec.network
    if network == "host" and netns:
        network = f"ns:{NETNS_DIR}/{netns}"
    return ContainerSpec(
        name=spec.name,
        image=spec.image,
        network=network,
        mounts=spec.mounts + extra,
        run_command=spec.run_command,
        options=spec.options,
        env=spec.env,
        labels=spec.labels,
        init=spec.init,
        pull=spec.pull,
    )


class ContainerAgent:
    """A replica's container as a resource: idempotent start and stop, monitor by state."""

    def __init__(self, engine: ContainerEngine, *, stop_grace: float = 10.0) -> None:
        self.engine = engine
        self.stop_grace = stop_grace

    def start(self, spec: ContainerSpec) -> OpResult:
        """Running already: OK (adopted as it is). Stopped: removed and run anew."""
        began = time.monotonic()
        try:
            info = self.engine.inspect(spec.name)
            if info.state is State.RUNNING:
                return OpResult(OcfRc.OK, OpStatus.DONE, None, time.monotonic() - began)
            if info.state is State.STOPPED:
                self.engine.rm(spec.name)
            self.engine.run(spec)
            if self.engine.inspect(spec.name).state is not State.RUNNING:
                return failed(
                    OcfRc.ERR_GENERIC,
                    OpStatus.DONE,
                    f"container {spec.name} exited right after it started",
                    time.monotonic() - began,
                )
        except ContainerError as exc:
            return failed(OcfRc.ERR_GENERIC, OpStatus.ERROR, str(exc), time.monotonic() - began)
        return OpResult(OcfRc.OK, OpStatus.DONE, None, time.monotonic() - began)

    def stop(self, name: str) -> OpResult:
        """Stop and remove, as Pacemaker's bundles do (the next start is a fresh run)."""
        began = time.monotonic()
        try:
            self.engine.stop(name, grace=self.stop_grace)
            self.engine.rm(name)
        except ContainerError as exc:
            return failed(OcfRc.ERR_GENERIC, OpStatus.ERROR, str(exc), time.monotonic() - began)
        return OpResult(OcfRc.OK, OpStatus.DONE, None, time.monotonic() - began)

    def monitor(self, name: str) -> OpResult:
        began = time.monotonic()
        try:
            state = self.engine.inspect(name).state
        except ContainerError as exc:
            return failed(OcfRc.ERR_GENERIC, OpStatus.ERROR, str(exc), time.monotonic() - began)
        rc = OcfRc.OK if state is State.RUNNING else OcfRc.NOT_RUNNING
        return OpResult(rc, OpStatus.DONE, None, time.monotonic() - began)

    def connection(self, action: str, container: str) -> OpResult:
        """A bundle's connection without pacemaker_remote: the inner agent runs through
        the engine's exec, so the guest node is up exactly while its container runs. Start
        and monitor say whether it does; stop has nothing to end."""
        began = time.monotonic()
        if action == "stop":
            return OpResult(OcfRc.OK, OpStatus.DONE, None, 0.0)
        result = self.monitor(container)
        if action == "start" and result.rc == OcfRc.NOT_RUNNING:
            return failed(
                OcfRc.ERR_GENERIC,
                OpStatus.DONE,
                f"container {container} is not running",
                time.monotonic() - began,
            )
        return result

    def inner_runner(self, name: str, *, ocf_root: str = "/usr/lib/ocf") -> OcfRunner:
        """An OcfRunner whose agents run inside container `name` through exec."""
        return OcfRunner(
            ocf_root=ocf_root, launcher=ContainerLauncher(self.engine, name), check_installed=False
        )
