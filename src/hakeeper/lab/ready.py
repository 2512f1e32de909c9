"""Whether the lab's services answer, not only whether its resources run: HAProxy accepts
connections on every VIP address its catalog binds, and its stats say each service has a
server UP behind it by a passed health check. `lab up` counts the lab converged only then.
"""

from __future__ import annotations

import csv
import io
import socket
import urllib.request
from dataclasses import dataclass

from hakeeper.lab.catalog import STATS_PORT, catalog
from hakeeper.lab.plan import LabPlan

PROBE_TIMEOUT = 1.0


@dataclass(frozen=True, slots=True)
class Readiness:
    waiting_for: tuple[str, ...]  # empty: ready

    @property
    def ready(self) -> bool:
        return not self.waiting_for


def binds(plan: LabPlan) -> list[tuple[str, str, int]]:
    """(service, address, port) of every HAProxy frontend, the stats page included."""
    found = [
        (service.name, plan.vip(v).ip, service.port)
        for service in catalog(plan.profile)
        for v in service.vips
    ]
    found.append(("stats", plan.vip("internal_api").ip, STATS_PORT))
    return found


#: a health check of that server has passed (HAProxy counts a server UP before its first)
PASSED = ("L4OK", "L6OK", "L7OK")


def backends_down(stats_csv: str, services: list[str]) -> list[str]:
    """The services without a server that is UP by a passed health check, in HAProxy's CSV
    stats (at start HAProxy counts every server UP before any check has run)."""
    text = stats_csv.lstrip("# ")
    serving = {
        row["pxname"]
        for row in csv.DictReader(io.StringIO(text))
        if row.get("svname") not in ("FRONTEND", "BACKEND")
        and row.get("status") == "UP"
        and row.get("check_status") in PASSED
    }
    return [s for s in services if s not in serving]


def _accepts(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=PROBE_TIMEOUT):
            return True
    except OSError:
        return False


def probe(plan: LabPlan) -> Readiness:
    """Ask HAProxy from the host (which reaches every VIP over the bridge)."""
    waiting = [
        f"{name} on {addr}:{port}" for name, addr, port in binds(plan) if not _accepts(addr, port)
    ]
    if waiting:
        return Readiness(tuple(f"HAProxy listening: {w}" for w in waiting))
    url = f"http://{plan.vip('internal_api').ip}:{STATS_PORT}/;csv"
    try:
        # no proxy: the VIPs are on this machine's bridge
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=PROBE_TIMEOUT) as answer:
            stats = answer.read().decode(errors="replace")
    except OSError as exc:
        return Readiness((f"HAProxy's stats ({exc})",))
    down = backends_down(stats, [s.name for s in catalog(plan.profile)])
    return Readiness(tuple(f"a server UP behind {s}" for s in down))
