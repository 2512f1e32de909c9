"""`lab up` to converged (services answering through HAProxy included) and `lab down`, on
labs with names and subnets free on this machine, so it never meets another lab.

    sudo .venv/bin/python benchmarks/lab_up.py --runs 3 [--profile minimal] [--store etcd]

Prints each run's seconds (and the machine's load), then min / median / max, and the
image cache check (or build) time first.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.lab.test_lab_minimal import test_plan

from hakeeper.lab import images
from hakeeper.lab.lifecycle import lab_down, lab_up, leftovers
from hakeeper.lab.plan import DEFAULT_CACHE, Profile, StoreKind


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--profile", choices=[x.value for x in Profile], default="minimal")
    p.add_argument("--store", choices=[x.value for x in StoreKind], default="etcd")
    p.add_argument("--timeout", type=float, default=300)
    args = p.parse_args()
    began = time.monotonic()
    built = images.ensure_images(DEFAULT_CACHE, lambda text: None)
    print(
        f"images: {'built' if built.built else 'cache checked'} in {time.monotonic() - began:.2f} s"
    )
    ups: list[float] = []
    downs: list[float] = []
    for run in range(args.runs):
        base = Path(tempfile.mkdtemp(prefix="hakeeper-bench-lab-", dir="/var/tmp"))
        base.chmod(0o755)
        plan = dataclasses.replace(
            test_plan(base, StoreKind(args.store)), profile=Profile(args.profile)
        )
        try:
            result = lab_up(plan, lambda text, s: None, timeout=args.timeout)
            state = "converged" if result.converged else "NOT converged"
            print(f"run {run}: {state} in {result.seconds:.1f} s (load {os.getloadavg()[0]:.1f})")
            if result.converged:
                ups.append(result.seconds)
        finally:
            t = time.monotonic()
            lab_down(plan.directory, lambda text, s: None)
            downs.append(time.monotonic() - t)
            left = leftovers(plan)
            if left:
                print(f"  left behind: {left}")
            shutil.rmtree(base, ignore_errors=True)
    if ups:
        print(
            f"lab up ({args.profile}, {args.store}): min {min(ups):.1f} s, median "
            f"{statistics.median(ups):.1f} s, max {max(ups):.1f} s over {len(ups)} runs"
        )
    print(f"lab down: {min(downs):.1f}-{max(downs):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
