"""Bundle-heavy scheduler benchmark: the seeds' controller cluster with its bundle set x N.

    .venv/bin/python benchmarks/bundles.py                 # x20: 100 bundles, 3 controllers
    .venv/bin/python benchmarks/bundles.py --copies 5 --repeat 5

Takes ../shared/examples/openstack-controllers-stonith.cib.xml (haproxy, galera, rabbitmq,
redis and cinder-volume bundles, VIPs, fence devices), copies every bundle and the
constraints naming it N-1 times (ids suffixed "-kN", each copy with its own control port
and `master-` node attributes), and times `crm_simulate -R -Q` beside `hakeeper simulate`
on two states: a cold start (no history) and the cluster crm_simulate converged to from it
(`crm_simulate -S -O`, histories and digests as Pacemaker writes them). It prints min /
median / max, peak RSS, the ratios, and whether both plan the same actions.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from oracle import crm  # noqa: E402
from scheduler import Series, _hakeeper_run, _row  # noqa: E402

SEED_CIB = ROOT.parent / "shared" / "examples" / "openstack-controllers-stonith.cib.xml"
REFS = ("rsc", "with-rsc", "first", "then")


def _rename(elem: etree._Element, suffix: str) -> None:
    for e in elem.iter():
        if not isinstance(e.tag, str):
            continue
        for attr in ("id", *REFS):
            if attr in e.attrib:
                e.set(attr, e.get(attr, "") + suffix)


def multiply(xml: bytes, copies: int) -> bytes:
    """The CIB with its bundles (and their constraints) `copies` times; no op history."""
    root = etree.fromstring(xml)
    resources = root.find("configuration/resources")
    constraints = root.find("configuration/constraints")
    assert resources is not None and constraints is not None
    bundles = resources.findall("bundle")
    names = {b.get("id") for b in bundles}
    names |= {p.get("id") for b in bundles for p in b.findall("primitive")}
    inner = [p.get("id", "") for b in bundles for p in b.findall("primitive")]
    tied = [c for c in constraints if any(c.get(a) in names for a in REFS)]
    port = 4000
    for k in range(1, copies):
        suffix = f"-k{k}"
        for bundle in bundles:
            twin = copy.deepcopy(bundle)
            _rename(twin, suffix)
            for network in twin.iter("network"):
                if network.get("control-port"):
                    network.set("control-port", str(port))
                    port += 1
            resources.append(twin)
        for constraint in tied:
            twin = copy.deepcopy(constraint)
            twin.set("id", twin.get("id", "") + suffix)
            for attr in REFS:
                if twin.get(attr) in names:
                    twin.set(attr, twin.get(attr, "") + suffix)
            for e in twin.iter():
                if e is not twin and isinstance(e.tag, str) and "id" in e.attrib:
                    e.set("id", e.get("id", "") + suffix)
            constraints.append(twin)
    for attrs in root.iterfind("status/node_state/transient_attributes/instance_attributes"):
        for nvpair in list(attrs):
            name = nvpair.get("name", "")
            if name.startswith("master-") and name[len("master-") :] in inner:
                for k in range(1, copies):
                    twin = copy.deepcopy(nvpair)
                    twin.set("id", twin.get("id", "") + f"-k{k}")
                    twin.set("name", f"{name}-k{k}")
                    attrs.append(twin)
    for lrm in root.iterfind("status/node_state/lrm/lrm_resources"):
        for child in list(lrm):
            lrm.remove(child)
    return bytes(etree.tostring(root, xml_declaration=False))


def bench(label: str, path: Path, a: argparse.Namespace) -> None:
    base, hk = Series("crm_simulate -R -Q"), Series("hakeeper simulate")
    for _ in range(a.repeat):
        if not base.error:
            r = crm.crm_simulate(path, "-R", "-Q", timeout=a.timeout)
            if r.ok:
                base.add(r)
            else:
                base.error = r.error()
        if not hk.error:
            _hakeeper_run(a.hakeeper, path, a.timeout, hk)
    print(f"\n{label}: {path.stat().st_size / 1e6:.1f} MB")
    print(
        f"  {'command':<26}{'min s':>8} {'median':>8} {'max s':>8} {'peak MB':>9}"
        f" {'t/crm':>7} {'mem/crm':>7}"
    )
    for s in (base, hk):
        print(_row(s, base if base.seconds else None), flush=True)
    want = crm.crm_simulate(path, "-S", timeout=max(a.timeout, 300))
    got = crm.run([a.hakeeper, "simulate", str(path)], timeout=a.timeout)
    if want.ok and got.ok:
        w = crm.summary_set(want.stdout, reasons=False) or frozenset()
        g = crm.summary_set(got.stdout, reasons=False) or frozenset()
        verdict = "same as crm_simulate's" if w == g else f"DIFFERS ({len(w ^ g)} lines)"
        print(f"  transition summary: {len(w)} actions, {verdict}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--copies", type=int, default=20, help="times the bundle set (default 20)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    ap.add_argument("--cib", type=Path, default=SEED_CIB)
    ap.add_argument("--hakeeper", default=str(ROOT / ".venv" / "bin" / "hakeeper"))
    a = ap.parse_args(argv)
    if a.copies < 1 or a.repeat < 1:
        ap.error("--copies and --repeat must be at least 1")
    if not crm.available():
        print(f"{crm.CRM_SIMULATE} not found: apt-get install pacemaker-cli-utils", file=sys.stderr)
        return 2
    if not a.cib.is_file():
        print(f"{a.cib}: no such file (the seeds' example CIB)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="hakeeper-bundles-") as tmp:
        cold = Path(tmp) / "cold.xml"
        cold.write_bytes(multiply(a.cib.read_bytes(), a.copies))
        n = 5 * a.copies
        print(f"seeds' bundle set x {a.copies}: {n} bundles on 3 controllers, {a.repeat} runs each")
        bench("cold start (no history)", cold, a)
        converged = Path(tmp) / "converged.xml"
        r = crm.crm_simulate(cold, "-S", "-O", str(converged), timeout=max(a.timeout, 600))
        if not r.ok:
            print(f"crm_simulate could not converge the cluster: {r.error()}", file=sys.stderr)
            return 1
        bench("after one transition (crm_simulate -S -O)", converged, a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
