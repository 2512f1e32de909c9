"""Bundles as the node daemon runs them: the resources the scheduler makes of a bundle
(hakeeper.scheduler.bundle_unpack), and where each runs.

Replica i of bundle B is three things here: its container `B-ENGINE-i` (a resource of the
host node: the engine runs it), its connection `B-i` (a resource of the host node too; no
pacemaker_remote: the guest node `B-i` is up exactly while the container runs) and the
inner clone's instance on guest node `B-i`, whose agent the host runs inside the container
through the engine's exec. Its op history is the host's document `RSC@GUEST`: written with
the host's progress in one transaction, and gone with the host's status when it is fenced
or rejoins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from hakeeper.agents.bundle import replica_spec
from hakeeper.agents.container import ContainerSpec
from hakeeper.model.config import Bundle, Clone, Configuration, Primitive
from hakeeper.scheduler.bundle_unpack import plan_bundle

CONTAINER = "container"
CONNECTION = "connection"
INNER = "inner"
#: the agent a bundle's connection is recorded with (Pacemaker's)
REMOTE_AGENT = ("ocf", "pacemaker", "remote")


@dataclass(frozen=True, slots=True)
class Part:
    """One resource the scheduler makes of a bundle replica."""

    kind: str  # CONTAINER, CONNECTION, INNER
    bundle: Bundle
    index: int
    prim: Primitive  # the generated primitive (the inner one for INNER)
    container: str  # the replica's container
    guest: str | None  # the replica's guest node, if the bundle wraps a primitive
    clone: Clone | None  # the implicit clone around the inner primitive
    spec: ContainerSpec | None = None  # CONTAINER: what the engine runs


def bundle_parts(config: Configuration) -> dict[str, Part]:
    """Containers and connections by resource id, inner instances by guest node name.
    A bundle without an image (invalid) or that the scheduler does not expand is left out.
    The IPs of a bundle (ip-range-start) are plain primitives: see generated_primitives."""
    parts: dict[str, Part] = {}
    for bundle in config.resources:
        if not isinstance(bundle, Bundle):
            continue
        plan = plan_bundle(bundle)
        if plan is None or not plan.image:
            continue
        for index, container in enumerate(plan.containers):
            try:
                spec = replica_spec(bundle, index)
            except ValueError:
                continue
            remote = plan.remotes[index]
            guest = remote.id if remote is not None else None
            parts[container.id] = Part(
                CONTAINER, bundle, index, container, container.id, guest, plan.clone, spec
            )
            if remote is not None and bundle.child is not None:
                parts[remote.id] = Part(
                    CONNECTION, bundle, index, remote, container.id, guest, plan.clone
                )
                parts[f"@{remote.id}"] = Part(
                    INNER, bundle, index, bundle.child, container.id, guest, plan.clone
                )
    return parts


def generated_primitives(config: Configuration) -> dict[str, Primitive]:
    """The IP primitives the scheduler makes of bundles (run as any primitive)."""
    found: dict[str, Primitive] = {}
    for bundle in config.resources:
        if isinstance(bundle, Bundle):
            plan = plan_bundle(bundle)
            for ip in plan.ips if plan is not None else ():
                if ip is not None:
                    found[ip.id] = ip
    return found


def inner_part(parts: Mapping[str, Part], guest: str) -> Part | None:
    return parts.get(f"@{guest}")


def inner_clone(part: Part) -> Clone | None:
    """The implicit clone with the bundle's own meta-attributes (notify,
    container-attribute-target) after its own, as an instance's agent reads them."""
    if part.clone is None:
        return None
    return replace(part.clone, meta=part.clone.meta + part.bundle.meta)
