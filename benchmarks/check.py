"""Whole-cluster check of the 3-node lab: `hakeeper check --store URL` beside the seeds'
check_health.sh and check_services.sh steps run one after another on the same lab.

    sudo .venv/bin/python benchmarks/check.py --runs 5

It brings up its own minimal lab (nodes hkb0.., bridge hkb0, 172.28.x networks, a directory
under /var/tmp) and removes it at the end; `--lab DIR` measures a lab that is up instead
(`--lab /var/lib/hakeeper/lab` after `make lab`: the openstack profile, every service real)
and leaves it up. Figures, min/median/max over --runs:

- `hakeeper check` (CLI): the whole command as an operator runs it, process start to exit;
- `check()` in-process: the library command alone (the figure `duration_s` reports);
- the seeds' steps: seeds/000 check_health.sh on each of the three controllers (container
  list, cluster status, rabbitmqctl, mysql wsrep, redis and haproxy `ps -efw`, `ceph -s`),
  then check_services.sh's three OpenStack lists once. On the lab the steps are the
  seeds' commands with their lab counterparts: podman for docker, `hakeeper status` for
  `pcs status`, `ip netns exec NODE` for "on that controller". Steps whose tool or
  container the lab lacks fail as fast as they would there, and are still timed.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hakeeper.commands.check import CheckEnv, HakeeperCluster, check
from hakeeper.commands.env import Env
from hakeeper.lab.lifecycle import lab_down, lab_up
from hakeeper.lab.plan import LabPlan, Net, Profile, StoreKind, make_plan
from hakeeper.lab.status import load_lab

TARGET_S = 2.0
NETS = {
    Net.INTERNAL: "172.28.1.0/24",
    Net.EXTERNAL: "10.28.0.0/24",
    Net.STORAGE: "172.28.3.0/24",
    Net.STORAGE_MGMT: "172.28.4.0/24",
}
HAKEEPER = [sys.executable, "-m", "hakeeper.cli.main"]


def seeds_script(plan: LabPlan) -> str:
    """check_health.sh on each controller, then check_services.sh, as a shell sequence."""
    status = shlex.join([*HAKEEPER, "status", "--store", plan.store_url])
    lines = []
    for node in plan.nodes:
        on = f"ip netns exec {node.name}"
        lines += [
            f"echo '########## {node.name}: Containers unhealthy ##########'",
            f"{on} podman ps | grep unhealthy",
            "echo '########## Pacemaker Status ##########'",
            status,
            "echo '########## RabbitMQ Status ##########'",
            f'{on} podman exec $({on} podman ps | grep -oP "rabbitmq-bundle-podman-[0-9]+")'
            " rabbitmqctl cluster_status",
            "echo '########## Galera Status ##########'",
            f'{on} podman exec $({on} podman ps | grep -oP "galera-bundle-podman-[0-9]+")'
            " mysql -e \"SHOW GLOBAL STATUS LIKE 'wsrep_%'\""
            " | grep -E -- 'wsrep_local_state_comment|wsrep_evs_state'",
            "echo '########## Redis Status ##########'",
            f"{on} ps -efw",
            "echo '########## HAProxy Status ##########'",
            f"{on} ps -efw",
            "echo '########## Ceph Status ##########'",
            f"{on} ceph -s",
        ]
    lines += [
        "echo '########## check_services.sh ##########'",
        "openstack volume service list",
        "openstack hypervisor list",
        "openstack network agent list",
    ]
    return "\n".join(lines) + "\n"


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds (user + system) of the command and its children: the
    machine is shared, and CPU time says what the command costs whatever the load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.monotonic()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.monotonic() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def row(label: str, values: list[float], reference: float | None) -> str:
    median = statistics.median(values)
    ratio = f"   {median / reference:5.2f}x the seeds' steps" if reference else ""
    return f"{label:34} {min(values):6.2f}s {median:6.2f}s {max(values):6.2f}s{ratio}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--lab", metavar="DIR", help="a lab that is up (left up)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="hakeeper-check-bench-", dir="/var/tmp"))
    if args.lab:
        try:
            return measure(load_lab(args.lab).plan, base, args.runs)
        finally:
            shutil.rmtree(base, ignore_errors=True)
    base.chmod(0o755)
    plan = make_plan(
        3,
        prefix="hkb",
        bridge="hkb0",
        directory=str(base / "lab"),
        cache=str(base / "cache"),
        profile=Profile.MINIMAL,
        store=StoreKind.ETCD,
        nets=NETS,
    )
    try:
        up = lab_up(plan, lambda text, s: None, timeout=120)
        if not up.converged:
            print("the lab did not converge", file=sys.stderr)
            return 1
        time.sleep(5)  # HAProxy's first health checks
        return measure(plan, base, args.runs)
    finally:
        lab_down(plan.directory, lambda text, s: None)
        shutil.rmtree(base, ignore_errors=True)


def measure(plan: LabPlan, base: Path, runs: int) -> int:
    script = base / "seeds_check.sh"
    script.write_text(seeds_script(plan))
    cli = [*HAKEEPER, "check", "--store", plan.store_url]
    env = CheckEnv.from_os()
    source = HakeeperCluster(Env(plan.store_url))
    verdict = check(env, source=source).verdict.value
    cli_s, cli_cpu, lib_s, seeds_s, seeds_cpu = [], [], [], [], []
    for run in range(runs):
        wall, cpu = timed(cli)
        cli_s.append(wall)
        cli_cpu.append(cpu)
        began = time.monotonic()
        check(env, source=source)
        lib_s.append(time.monotonic() - began)
        wall, cpu = timed(["bash", str(script)])
        seeds_s.append(wall)
        seeds_cpu.append(cpu)
        print(
            f"run {run + 1}: hakeeper check {cli_s[-1]:.2f} s ({cli_cpu[-1]:.2f} s CPU),"
            f" in-process {lib_s[-1]:.2f} s, seeds' steps {seeds_s[-1]:.2f} s"
            f" ({seeds_cpu[-1]:.2f} s CPU); load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    reference = statistics.median(seeds_s)
    print()
    print(f"3-node {plan.profile.value} lab, {runs} runs, verdict of the check: {verdict}")
    print(f"{'':34} {'min':>7} {'median':>7} {'max':>7}")
    print(row("hakeeper check --store (CLI)", cli_s, reference))
    print(row("check() in-process", lib_s, reference))
    print(row("seeds' steps, one after another", seeds_s, None))
    print(row("  CPU of hakeeper check (CLI)", cli_cpu, statistics.median(seeds_cpu)))
    print(row("  CPU of the seeds' steps", seeds_cpu, None))
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    met = "met" if statistics.median(cli_s) <= TARGET_S else "NOT met"
    print(f"target <= {TARGET_S:g} s for the whole check: {met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
