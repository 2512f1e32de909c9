"""Scheduler benchmark: hakeeper's time and memory to compute a transition beside crm_simulate's.

    .venv/bin/python benchmarks/scheduler.py              # 16x500 and 32x2000, ~5 minutes
    .venv/bin/python benchmarks/scheduler.py --quick      # small CIBs, under a minute
    .venv/bin/python benchmarks/scheduler.py --size 8x300 --repeat 5 --in-process
    .venv/bin/python benchmarks/scheduler.py --size 16x200 --clones 1   # 200 clones x 16 nodes

For each generated CIB (benchmarks/cibgen.py: all probed, and with a share of resources just
added and never probed), runs `crm_simulate -x FILE -R -Q` and `hakeeper simulate FILE` a few
times, interleaved, and prints wall-clock min/median/max, the children's peak RSS, and
hakeeper/crm_simulate ratios (below 1.0 is better). `crm_simulate -S` (which also executes
the transition in a simulated cluster, and is far slower) runs once on the smaller CIBs. With
--in-process, a child process imports hakeeper and times parsing and scheduling alone.
A tool that fails or times out gets its error on its row; the benchmark goes on.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cibgen import Profile, generate  # noqa: E402

from oracle import crm  # noqa: E402

FULL = ["16x500", "32x2000"]
QUICK = ["8x100", "16x200"]


@dataclass
class Series:
    """Repeated runs of one command on one CIB."""

    label: str
    seconds: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    error: str = ""
    output: str = ""
    parts: dict[str, list[float]] = field(default_factory=dict)  # in-process: parse, schedule

    def add(self, r: crm.Run) -> None:
        self.seconds.append(r.seconds)
        self.rss_kb.append(r.maxrss_kb)
        if not self.output:
            self.output = r.stdout

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds and not self.error else None

    @property
    def peak_mb(self) -> float | None:
        return max(self.rss_kb) / 1024 if self.rss_kb and not self.error else None


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else "-"


def _row(s: Series, base: Series | None) -> str:
    if s.error:
        return f"  {s.label:<26} error: {s.error}"
    t = sorted(s.seconds)
    times = f"{t[0]:8.2f} {statistics.median(t):8.2f} {t[-1]:8.2f}"
    if len(t) == 1:
        times = f"{'':8} {t[0]:8.2f} {'':8}"
    line = f"  {s.label:<26}{times} {s.peak_mb or 0:9.0f}"
    if base is not None and base is not s:
        line += f" {_ratio(s.median, base.median):>7} {_ratio(s.peak_mb, base.peak_mb):>7}"
    for name, vals in s.parts.items():
        line += f"  {name} {statistics.median(vals):.2f}"
    return line


def _hakeeper_run(hk: str, path: Path, timeout: float, s: Series) -> None:
    if not os.access(hk, os.X_OK):
        s.error = f"{hk} not found (make install)"
        return
    r = crm.run([hk, "simulate", str(path)], timeout=timeout)
    if not r.ok:
        s.error = r.error()
    elif crm.transition_summary(r.stdout) is None:
        s.error = f"exit 0 in {r.seconds:.2f} s but no 'Transition Summary:' block in its output"
    else:
        s.add(r)


def _in_process_run(path: Path, timeout: float, s: Series) -> None:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child-in-process", str(path)]
    r = crm.run(argv, timeout=timeout)
    if not r.ok:
        s.error = r.error()
        return
    try:
        got = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        s.error = f"unreadable child output: {r.stdout[-200:]!r}"
        return
    if "error" in got:
        s.error = str(got["error"])
        return
    s.seconds.append(got["parse"] + got["schedule"])
    s.rss_kb.append(r.maxrss_kb)
    for k in ("parse", "schedule"):
        s.parts.setdefault(k, []).append(got[k])


def _find_schedule() -> Callable[..., object] | None:
    for name in ("hakeeper.scheduler.schedule", "hakeeper.scheduler"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        fn = getattr(mod, "schedule", None)
        if callable(fn):
            return cast(Callable[..., object], fn)
    return None


def child_in_process(path: str) -> int:
    """Import hakeeper, parse the CIB and schedule it; print timings as one JSON line.

    The scheduler's signature is still settling: schedule(cib), schedule(cib, now) and
    schedule(configuration, status) are all tried by their parameters' names.
    """

    def fail(msg: str) -> int:
        print(json.dumps({"error": msg}))
        return 0

    try:
        cib_mod = importlib.import_module("hakeeper.cib.parse")
    except ImportError as e:
        return fail(f"hakeeper.cib.parse not importable: {e}")
    parse = getattr(cib_mod, "parse_cib_file", None)
    schedule = _find_schedule()
    if parse is None or schedule is None:
        return fail("no hakeeper.cib.parse.parse_cib_file or hakeeper.scheduler...schedule")
    try:
        params = list(inspect.signature(schedule).parameters)
        t0 = time.perf_counter()
        cib = parse(path)
        t1 = time.perf_counter()
        if len(params) >= 2 and params[0].startswith("config"):
            schedule(cib.configuration, cib.status)
        elif "now" in params:
            now = getattr(cib, "execution_date", None) or int(time.time())
            schedule(cib, now)
        else:
            schedule(cib)
        t2 = time.perf_counter()
    except Exception as e:  # the scheduler is young: report, don't crash the benchmark
        return fail(f"{type(e).__name__}: {e}")
    print(json.dumps({"parse": t1 - t0, "schedule": t2 - t1}))
    return 0


def _agreement(hk: Series, crm_out: str) -> str:
    want = crm.summary_set(crm_out)
    got = crm.summary_set(hk.output)
    if want is None or got is None or hk.error:
        return ""
    if got == want:
        return f"  transition summary: same as crm_simulate's ({len(want)} lines)"
    lines = [
        f"  transition summary differs from crm_simulate's: {len(want - got)} missing,"
        f" {len(got - want)} extra (of {len(want)})"
    ]
    lines += [f"    - {ln}" for ln in sorted(want - got)[:5]]
    lines += [f"    + {ln}" for ln in sorted(got - want)[:5]]
    return "\n".join(lines)


def bench_one(prof: Profile, path: Path, a: argparse.Namespace) -> tuple[Series, Series]:
    t0 = time.perf_counter()
    cluster = generate(prof)
    path.write_text(cluster.render())
    gen_s = time.perf_counter() - t0
    n_fence = prof.nodes if prof.stonith else 0
    status = (
        f"{round(prof.unprobed * 100)}% of resources never probed"
        if prof.unprobed
        else "all probed"
    )
    print(
        f"\nCIB {prof.name}: {prof.nodes} nodes, {prof.resources} primitives + {n_fence} fence"
        f" devices, {len(cluster.constraints)} constraints, {len(cluster.history)} op histories,"
        f" {path.stat().st_size / 1e6:.1f} MB, {status} (generated in {gen_s:.1f} s)",
        flush=True,
    )
    del cluster
    base = Series("crm_simulate -R -Q")
    hk = Series("hakeeper simulate")
    inproc = Series("hakeeper in-process")
    for _ in range(a.repeat):
        if not base.error:
            r = crm.crm_simulate(path, "-R", "-Q", timeout=a.timeout)
            if r.ok:
                base.add(r)
            else:
                base.error = r.error()
        if not hk.error:
            _hakeeper_run(a.hakeeper, path, a.timeout, hk)
        if a.in_process and not inproc.error:
            _in_process_run(path, a.timeout, inproc)
    rows = [base, hk] + ([inproc] if a.in_process else [])
    sim: Series | None = None
    # -S executes the transition op by op on the whole CIB: minutes once probes are due.
    if a.simulate == "all" or (
        a.simulate == "auto" and prof.resources <= 500 and not prof.unprobed
    ):
        sim = Series("crm_simulate -S (1 run)")
        r = crm.crm_simulate(path, "-S", timeout=max(a.timeout, 300))
        if r.ok:
            sim.add(r)
        else:
            sim.error = r.error()
        rows.insert(1, sim)
    print(
        f"  {'command':<26}{'min s':>8} {'median':>8} {'max s':>8} {'peak MB':>9}"
        f" {'t/crm':>7} {'mem/crm':>7}"
    )
    for s in rows:
        print(_row(s, base if base.seconds else None), flush=True)
    if sim is not None and sim.output:
        actions = len(crm.transition_summary(sim.output) or [])
        print(f"  crm_simulate plans {actions} actions in its transition summary")
        line = _agreement(hk, sim.output)
        if line:
            print(line)
    return base, hk


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=f"small CIBs: {', '.join(QUICK)}")
    ap.add_argument("--size", action="append", metavar="NxM", help="nodes x primitives")
    ap.add_argument("--unprobed", type=float, default=0.1, help="share never probed; 0: skip")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--clones", type=float, default=0.0, help="share of top-level resources cloned (0-1)"
    )
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds per run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--simulate",
        choices=["auto", "all", "none"],
        default="auto",
        help="also time crm_simulate -S once (auto: probed CIBs of at most 500 primitives)",
    )
    ap.add_argument("--in-process", action="store_true", help="also time parse+schedule alone")
    ap.add_argument("--hakeeper", default=str(ROOT / ".venv" / "bin" / "hakeeper"))
    ap.add_argument("--keep", metavar="DIR", help="write the CIBs here and keep them")
    ap.add_argument("--child-in-process", metavar="CIB", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child_in_process:
        return child_in_process(a.child_in_process)
    if not crm.available():
        print(f"{crm.CRM_SIMULATE} not found: apt-get install pacemaker-cli-utils", file=sys.stderr)
        return 2
    sizes = a.size or (QUICK if a.quick else FULL)
    profiles = []
    for size in sizes:
        try:
            n, m = (int(x) for x in size.lower().split("x"))
        except ValueError:
            print(f"--size {size!r}: expected NODESxPRIMITIVES, e.g. 16x500", file=sys.stderr)
            return 2
        profiles.append(Profile(n, m, seed=a.seed, clones=a.clones))
        if a.unprobed:
            profiles.append(Profile(n, m, seed=a.seed, unprobed=a.unprobed, clones=a.clones))
    print(
        f"hakeeper scheduler benchmark: {a.repeat} runs per command, wall-clock seconds"
        f" (min / median / max), children's peak RSS; ratios are each row's median time and peak"
        f" RSS over crm_simulate -R -Q's.\nhost: {platform.node()}, {os.cpu_count()} CPUs, Python"
        f" {platform.python_version()}, {crm.CRM_SIMULATE}"
    )
    started = time.perf_counter()
    summary = []
    with tempfile.TemporaryDirectory(prefix="hakeeper-bench-") as tmp:
        out_dir = Path(a.keep or tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        for prof in profiles:
            base, hk = bench_one(prof, out_dir / f"cib-{prof.name}.xml", a)
            summary.append((prof.name, base, hk))
    print("\nsummary (first bar: hakeeper <= crm_simulate -R -Q; headed for 1/10 of it)")
    print(f"  {'CIB':<30}{'crm -R -Q':>10} {'hakeeper':>10} {'t/crm':>7} {'mem/crm':>8}  verdict")
    for name, base, hk in summary:
        crm_t = f"{base.median:.2f}" if base.median is not None else "error"
        hk_t = f"{hk.median:.2f}" if hk.median is not None else "error"
        ratio = _ratio(hk.median, base.median)
        verdict = "-"
        if hk.median is not None and base.median:
            verdict = "ok" if hk.median <= base.median else "SLOWER"
        mem = _ratio(hk.peak_mb, base.peak_mb)
        print(f"  {name:<30}{crm_t:>10} {hk_t:>10} {ratio:>7} {mem:>8}  {verdict}")
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
