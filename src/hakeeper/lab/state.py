"""What a lab made, on disk (LAB/lab.json): written before each thing is made, so `lab
down` can undo a lab that `lab up` left half-built (a failure, ^C, a killed shell)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from typing import Any

from hakeeper.lab.node import Proc
from hakeeper.lab.plan import LabPlan, Net, Profile, StoreKind, make_plan

STATE_FILE = "lab.json"


@dataclass(frozen=True, slots=True)
class LabState:
    plan: LabPlan
    nodes: int
    prefix: str
    bridge_made: bool = False
    namespaces: tuple[str, ...] = ()
    procs: tuple[tuple[str, Proc], ...] = ()  # (node, process)
    images: tuple[str, ...] = ()
    started_at: float = 0.0
    converged_after: float | None = None

    def node_procs(self, node: str) -> dict[str, Proc]:
        return {p.name: p for n, p in self.procs if n == node}

    def with_proc(self, node: str, proc: Proc) -> LabState:
        kept = tuple((n, p) for n, p in self.procs if not (n == node and p.name == proc.name))
        return replace(self, procs=(*kept, (node, proc)))

    def without_procs(self, node: str) -> LabState:
        return replace(self, procs=tuple((n, p) for n, p in self.procs if n != node))

    def to_doc(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "nodes": self.nodes,
            "prefix": self.prefix,
            "bridge": plan.bridge,
            "directory": plan.directory,
            "cache": plan.cache,
            "profile": plan.profile.value,
            "store": plan.store.value,
            "nets": {net.value: cidr for net, cidr in plan.nets},
            "bridge_made": self.bridge_made,
            "namespaces": list(self.namespaces),
            "procs": [{"node": n, **p.to_doc()} for n, p in self.procs],
            "images": list(self.images),
            "started_at": self.started_at,
            "converged_after": self.converged_after,
        }

    @staticmethod
    def from_doc(doc: dict[str, Any]) -> LabState:
        plan = make_plan(
            int(doc["nodes"]),
            prefix=str(doc["prefix"]),
            bridge=str(doc["bridge"]),
            directory=str(doc["directory"]),
            cache=str(doc["cache"]),
            profile=Profile(doc["profile"]),
            store=StoreKind(doc["store"]),
            nets={Net(k): str(v) for k, v in doc["nets"].items()},
        )
        return LabState(
            plan=plan,
            nodes=int(doc["nodes"]),
            prefix=str(doc["prefix"]),
            bridge_made=bool(doc.get("bridge_made")),
            namespaces=tuple(doc.get("namespaces", ())),
            procs=tuple((str(p["node"]), Proc.from_doc(p)) for p in doc.get("procs", ())),
            images=tuple(doc.get("images", ())),
            started_at=float(doc.get("started_at", 0.0)),
            converged_after=doc.get("converged_after"),
        )


def save(state: LabState) -> None:
    path = os.path.join(state.plan.directory, STATE_FILE)
    os.makedirs(state.plan.directory, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state.to_doc(), f, indent=1)
    os.replace(tmp, path)


def load(directory: str) -> LabState | None:
    """The lab recorded in `directory`; None if there is none. Raises ValueError if the
    record is unreadable."""
    path = os.path.join(directory, STATE_FILE)
    try:
        with open(path) as f:
            doc = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: {exc}") from exc
    try:
        return LabState.from_doc(doc)
    except (KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: unreadable lab record ({exc})") from exc
