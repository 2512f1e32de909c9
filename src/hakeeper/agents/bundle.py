"""Bundle replicas: Pacemaker's names, the container a replica runs in, and its start/stop/monitor.

Pacemaker names replica i of bundle B on engine E: container `B-E-i` (galera-bundle-podman-0)
and remote node `B-i` (galera-bundle-0); a storage mapping's source-dir-root gets the
remote node's name appended, so each replica has its own directory.
"""

from __future__ import annotations

import shlex
import time

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

    def inner_runner(self, name: str, *, ocf_root: str = "/usr/lib/ocf") -> OcfRunner:
        """An OcfRunner whose agents run inside container `name` through exec."""
        return OcfRunner(
            ocf_root=ocf_root, launcher=ContainerLauncher(self.engine, name), check_installed=False
        )
