"""Deterministic generator of large, realistic Pacemaker CIBs for scheduler benchmarks.

    python benchmarks/cibgen.py --nodes 16 --resources 500 --seed 1 -o cib.xml

A CIB holds N nodes with attributes (site, rack, ssd), one fence_ipmilan device per node
(banned from its own node), M primitives (ocf:heartbeat:Dummy, ocf:heartbeat:IPaddr2,
ocf:pacemaker:Dummy), some of them in groups, location constraints (node scores, bans, rules
on node attributes), colocations and orders between top-level resources, and a status
section like a cluster that has been running for a while: every node online, most resources
started where the constraints put them (with start and monitor history and the digests
Pacemaker computes), the rest stopped and probed, a few with failed monitors. With
`unprobed > 0` that fraction of resources were just added and nobody has probed them yet, so
the scheduler must plan probes on every node. The same seed gives the same bytes.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from oracle.cibxml import (
    INFINITY,
    Clone,
    Cluster,
    Colocation,
    Constraint,
    Expression,
    Group,
    History,
    Location,
    Node,
    Op,
    Order,
    Primitive,
    Resource,
    RscState,
    Rule,
)


@dataclass(frozen=True, slots=True)
class Profile:
    """What one generated CIB looks like; fractions are of primitives or top-level resources."""

    nodes: int
    resources: int  # primitives, group members included, fence devices not
    seed: int = 1
    grouped: float = 0.3  # share of primitives that sit in groups of 2-4
    located: float = 0.25  # top-level resources with a location constraint
    colocated: float = 0.1
    ordered: float = 0.1
    running: float = 0.9  # the rest are stopped (probed, or never probed if just added)
    unprobed: float = 0.0  # resources added since the last probes: no history anywhere
    failed: float = 0.01  # running primitives whose last monitor failed
    stopped_role: float = 0.02  # target-role=Stopped
    clones: float = 0.0  # top-level resources that are anonymous clones (one per node)
    bundles: float = 0.0  # reserved for bundle-heavy mixes; not generated yet
    stonith: bool = True

    @property
    def name(self) -> str:
        tag = f"{self.nodes}x{self.resources}"
        if self.unprobed:
            tag += f"-unprobed{round(self.unprobed * 100)}"
        if self.clones:
            tag += f"-clones{round(self.clones * 100)}"
        return tag


AGENTS = (
    # (weight, provider, type)
    (6, "heartbeat", "Dummy"),
    (3, "heartbeat", "IPaddr2"),
    (2, "pacemaker", "Dummy"),
)


def _mac(rng: random.Random) -> str:
    return "525400" + "".join(rng.choice("0123456789abcdef") for _ in range(6))


def _nodes(p: Profile) -> tuple[Node, ...]:
    out = []
    for i in range(p.nodes):
        attrs = [("site", "a" if i % 2 == 0 else "b"), ("rack", f"r{i % 4}")]
        if i % 3 == 0:
            attrs.append(("ssd", "true"))
        out.append(Node(f"node-{i + 1:02d}", str(i + 1), attrs=tuple(attrs)))
    return tuple(out)


def _primitive(rng: random.Random, i: int) -> Primitive:
    weights = [w for w, _, _ in AGENTS]
    _, provider, typ = rng.choices(AGENTS, weights)[0]
    if typ == "IPaddr2":
        ip = f"10.{16 + i // 65536}.{(i // 256) % 256}.{i % 256}"
        return Primitive(
            f"ip-{ip}",
            "ocf",
            typ,
            provider,
            params=(("ip", ip), ("cidr_netmask", "32")),
            ops=(Op("start", 0, 20), Op("stop", 0, 20), Op("monitor", 10, 20)),
        )
    name = "svc" if provider == "heartbeat" else "pcmk"
    params: tuple[tuple[str, str], ...] = ()
    if rng.random() < 0.3:
        params = (("state", f"/run/{name}-{i:05d}.state"),)
    return Primitive(f"{name}-{i:05d}", "ocf", typ, provider, params=params)


def _fence_devices(rng: random.Random, nodes: tuple[Node, ...]) -> list[Primitive]:
    out = []
    for n in nodes:
        out.append(
            Primitive(
                f"stonith-fence_ipmilan-{_mac(rng)}",
                "stonith",
                "fence_ipmilan",
                params=(
                    ("ip", f"192.168.24.{100 + int(n.id)}"),
                    ("lanplus", "true"),
                    ("password", "secret"),
                    ("pcmk_host_list", n.name),
                    ("username", "admin"),
                ),
                ops=(Op("monitor", 60, 20),),
            )
        )
    return out


def _top_level(rng: random.Random, p: Profile) -> list[Resource]:
    prims = [_primitive(rng, i) for i in range(p.resources)]
    out: list[Resource] = []
    i = g = 0
    while i < len(prims):
        if rng.random() < p.grouped / 2.5 and i + 1 < len(prims):
            size = rng.randint(2, 4)
            g += 1
            out.append(Group(f"grp-{g:04d}", tuple(prims[i : i + size])))
            i += size
        else:
            out.append(prims[i])
            i += 1
    if p.bundles:
        raise NotImplementedError("bundle-heavy mixes are not generated yet")
    if p.clones:
        out = [
            Clone(f"{r.id}-clone", r) if isinstance(r, Primitive) and rng.random() < p.clones else r
            for r in out
        ]
    return out


def _allowed(rule: Rule | None, node: Node) -> bool:
    """Whether a node passes the kind of -INFINITY rule this generator writes."""
    if rule is None:
        return True
    attrs = dict(node.attrs)
    e = rule.expressions[0]
    if e.operation == "ne":
        return attrs.get(e.attribute) == e.value
    if e.operation == "not_defined":
        return e.attribute in attrs
    return True


def generate(p: Profile) -> Cluster:
    """One CIB: configuration plus the status of a cluster that has been running a while."""
    rng = random.Random(p.seed)
    nodes = _nodes(p)
    names = [n.name for n in nodes]
    fences = _fence_devices(rng, nodes) if p.stonith else []
    tops = _top_level(rng, p)
    constraints: list[Constraint] = []
    history: list[History] = []
    load = dict.fromkeys(names, 0)
    placed: dict[str, str | None] = {}
    running: set[str] = set()

    for k, f in enumerate(fences):
        own = nodes[k].name
        constraints.append(Location(f"location-{f.id}", f.id, -INFINITY, node=own))
        placed[f.id] = names[(k + 1) % len(names)]

    for idx, r in enumerate(tops):
        allowed = set(names)
        prefer: str | None = None
        roll = rng.random()
        if not isinstance(r, Clone) and roll < p.located:
            shape = rng.random()
            if shape < 0.4:
                prefer = rng.choice(names)
                score = rng.choice([50, 100, 200, INFINITY])
                constraints.append(Location(f"loc-{r.id}-{prefer}", r.id, score, node=prefer))
            elif shape < 0.6:
                ban = rng.choice(names)
                allowed.discard(ban)
                constraints.append(Location(f"ban-{r.id}-{ban}", r.id, -INFINITY, node=ban))
            elif shape < 0.8:
                site = rng.choice("ab")
                rule = Rule(rng.choice([100, 500]), (Expression("site", "eq", site),))
                constraints.append(Location(f"loc-{r.id}-site-{site}", r.id, rule=rule))
                prefer = next(n.name for n in nodes if dict(n.attrs)["site"] == site)
            else:
                if rng.random() < 0.5:
                    rule = Rule(-INFINITY, (Expression("ssd", "ne", "true"),))
                else:
                    rule = Rule(-INFINITY, (Expression("ssd", "not_defined"),))
                constraints.append(Location(f"loc-{r.id}-needs-ssd", r.id, rule=rule))
                allowed &= {n.name for n in nodes if _allowed(rule, n)}
        with_rsc: str | None = None
        if idx > 0 and not isinstance(r, Clone) and rng.random() < p.colocated:
            other = tops[rng.randrange(max(0, idx - 50), idx)]
            where = placed.get(other.id)
            score = rng.choice([INFINITY, INFINITY, 500, -INFINITY])
            if not isinstance(other, Clone) and where is not None and where in allowed:
                constraints.append(Colocation(f"col-{r.id}-with-{other.id}", r.id, other.id, score))
                if score == -INFINITY:
                    allowed.discard(where)
                    if len(allowed) == 0:
                        allowed = {n for n in names if n != where}
                else:
                    with_rsc = where
        needs_first = False
        if idx > 0 and rng.random() < p.ordered:
            first = tops[rng.randrange(max(0, idx - 50), idx)]
            order_kind = rng.choice(["Mandatory", "Mandatory", "Optional"])
            constraints.append(Order(f"order-{first.id}-then-{r.id}", first.id, r.id, order_kind))
            # A running "then" whose mandatory "first" is stopped would be restarted: a
            # cluster that has settled has both stopped.
            needs_first = order_kind == "Mandatory" and first.id not in running

        if isinstance(r, Clone):
            placed[r.id] = None
            running.add(r.id)
            for prim in r.primitives():
                for n in names:
                    history.append(History(n, prim.id, RscState.RUNNING))
            continue

        meta_stopped = rng.random() < p.stopped_role
        if meta_stopped:
            r = _with_meta(r, ("target-role", "Stopped"))
            tops[idx] = r
        if rng.random() < p.unprobed:
            placed[r.id] = None
            continue
        target = with_rsc or prefer
        if target not in allowed:
            target = min(sorted(allowed), key=lambda n: load[n]) if allowed else None
        runs = (
            target is not None and not meta_stopped and not needs_first and rng.random() < p.running
        )
        placed[r.id] = target if runs else None
        if runs:
            running.add(r.id)
        for prim in r.primitives():
            for n in names:
                if runs and n == target:
                    state = RscState.RUNNING
                    if rng.random() < p.failed:
                        state = RscState.MONITOR_FAILED
                    history.append(History(n, prim.id, state))
                else:
                    history.append(History(n, prim.id, RscState.NOT_RUNNING))
        if runs and target is not None:
            load[target] += len(r.primitives())

    for f in fences:
        for n in names:
            state = RscState.RUNNING if placed[f.id] == n else RscState.NOT_RUNNING
            history.append(History(n, f.id, state))

    props = [("stonith-enabled", "true" if p.stonith else "false")]
    return Cluster(
        nodes=nodes,
        resources=(*fences, *tops),
        constraints=tuple(constraints),
        history=tuple(history),
        properties=tuple(props),
        rsc_defaults=(("resource-stickiness", "100"), ("migration-threshold", "3")),
        name=f"bench-{p.name}",
    )


def _with_meta(r: Resource, pair: tuple[str, str]) -> Resource:
    return replace(r, meta=(*r.meta, pair))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--nodes", type=int, default=16)
    ap.add_argument("--resources", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--unprobed", type=float, default=0.0)
    ap.add_argument("--clones", type=float, default=0.0)
    ap.add_argument("--no-stonith", action="store_true")
    ap.add_argument("-o", "--output", default="-")
    a = ap.parse_args(argv)
    prof = Profile(
        a.nodes,
        a.resources,
        seed=a.seed,
        unprobed=a.unprobed,
        clones=a.clones,
        stonith=not a.no_stonith,
    )
    text = generate(prof).render()
    if a.output == "-":
        sys.stdout.write(text)
    else:
        Path(a.output).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
