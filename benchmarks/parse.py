"""CIB parsing benchmark: hakeeper's parse time and throughput on generated CIBs.

    .venv/bin/python benchmarks/parse.py                  # 16x500 and 32x2000, about a minute
    .venv/bin/python benchmarks/parse.py --quick          # small CIBs: 8x100, 16x200
    .venv/bin/python benchmarks/parse.py --size 8x300 --repeat 7
    .venv/bin/python benchmarks/parse.py FILE.xml ...     # existing CIBs instead

For each CIB (benchmarks/cibgen.py, as benchmarks/scheduler.py makes them: all probed, and with
a share of resources never probed), times `parse_cib_file` in this process a few times and
prints wall-clock min/median/max seconds, MB/s (file size over the median and the best time)
and the median CPU seconds (steadier than wall-clock on a busy host), beside the same for lxml
alone building the XML tree (the floor for a parser that builds the tree first).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cibgen import Profile, generate  # noqa: E402

from hakeeper.cib.parse import parse_cib_file  # noqa: E402

FULL = ["16x500", "32x2000"]
QUICK = ["8x100", "16x200"]


def _times(run: Callable[[], object], repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of `repeat` runs, each sorted."""
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        run()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return sorted(wall), sorted(cpu)


def _row(label: str, times: tuple[list[float], list[float]], mb: float) -> str:
    wall, cpu = times
    med = statistics.median(wall)
    return (
        f"  {label:<22}{wall[0]:8.3f} {med:8.3f} {wall[-1]:8.3f}"
        f" {mb / med:10.1f} {mb / wall[0]:10.1f} {statistics.median(cpu):8.3f}"
    )


def _xml_only(path: Path) -> None:
    parser = etree.XMLParser(
        remove_comments=True, resolve_entities=False, no_network=True, huge_tree=True
    )
    etree.fromstring(path.read_bytes(), parser)


def bench_file(path: Path, repeat: int, label: str = "") -> float:
    """Print one CIB's rows; return the median parse time."""
    mb = path.stat().st_size / 1e6
    cib = parse_cib_file(path)  # warm-up, and the counts below
    status = cib.status
    ops = sum(len(r.ops) for n in status.nodes for r in n.resources)
    print(
        f"\nCIB {label or path.name}: {mb:.1f} MB, {len(cib.configuration.resources)}"
        f" top-level resources, {len(status.nodes)} nodes, {ops} op histories",
        flush=True,
    )
    del cib, status
    print(
        f"  {'':<22}{'min s':>8} {'median':>8} {'max s':>8} {'MB/s med':>10} {'MB/s max':>10}"
        f" {'cpu med':>8}"
    )
    parse = _times(lambda: parse_cib_file(path), repeat)
    print(_row("parse_cib_file", parse, mb), flush=True)
    print(_row("lxml tree alone", _times(lambda: _xml_only(path), repeat), mb), flush=True)
    return statistics.median(parse[0])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, help="existing CIB files (no generation)")
    ap.add_argument("--quick", action="store_true", help=f"small CIBs: {', '.join(QUICK)}")
    ap.add_argument("--size", action="append", metavar="NxM", help="nodes x primitives")
    ap.add_argument("--unprobed", type=float, default=0.1, help="share never probed; 0: skip")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", metavar="DIR", help="write the CIBs here and keep them")
    a = ap.parse_args(argv)
    if a.repeat < 1:
        ap.error("--repeat must be at least 1")
    print(
        f"hakeeper CIB parse benchmark: {a.repeat} runs per CIB, wall-clock seconds"
        " (min / median / max) and MB/s"
    )
    if a.files:
        for path in a.files:
            bench_file(path, a.repeat)
        return 0
    profiles = []
    for size in a.size or (QUICK if a.quick else FULL):
        n, _, m = size.partition("x")
        if not (n.isdigit() and m.isdigit()):
            ap.error(f"--size {size}: use NODESxPRIMITIVES, e.g. 16x500")
        profiles.append(Profile(int(n), int(m), seed=a.seed))
        if a.unprobed:
            profiles.append(Profile(int(n), int(m), seed=a.seed, unprobed=a.unprobed))
    with tempfile.TemporaryDirectory(prefix="hakeeper-parse-bench-") as tmp:
        out_dir = Path(a.keep or tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        for prof in profiles:
            path = out_dir / f"{prof.name}.xml"
            path.write_text(generate(prof).render())
            bench_file(path, a.repeat, prof.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
