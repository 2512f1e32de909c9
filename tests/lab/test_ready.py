"""Readiness from HAProxy's own answers: its frontends on the VIPs and its stats CSV."""

from __future__ import annotations

from dataclasses import replace

from hakeeper.lab.cib import promoted_wanted
from hakeeper.lab.observe import Instance, Observation, promotions_waiting
from hakeeper.lab.plan import Profile, make_plan
from hakeeper.lab.ready import backends_down, binds
from hakeeper.model.config import Role
from hakeeper.scheduler.view import ResourceView

HEADER = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,"
STATS = (
    HEADER
    + """wretr,wredis,status,weight,check_status
keystone,FRONTEND,,,0,1,1024,3,0,0,0,0,0,,,,,OPEN,
keystone,ctl0,0,0,0,1,,1,0,0,,0,,0,0,0,0,UP,1,L7OK
keystone,ctl1,0,0,0,1,,1,0,0,,0,,0,0,0,0,UP,1,INI
keystone,BACKEND,0,0,0,1,103,3,0,0,0,0,,0,0,0,0,UP,3
redis,FRONTEND,,,0,1,1024,3,0,0,0,0,0,,,,,OPEN,
redis,ctl0,0,0,0,1,,1,0,0,,0,,0,0,0,0,DOWN,1,L7RSP
redis,ctl1,0,0,0,1,,1,0,0,,0,,0,0,0,0,UP,1,INI
redis,BACKEND,0,0,0,1,103,3,0,0,0,0,,0,0,0,0,DOWN,0
"""
)


def test_a_service_is_ready_when_a_server_passed_its_check() -> None:
    # ctl1 of redis is UP only as HAProxy assumes before the first check: not ready
    assert backends_down(STATS, ["keystone", "redis", "mysql"]) == ["redis", "mysql"]
    assert backends_down(STATS, ["keystone"]) == []


def test_every_vip_bind_of_the_catalog_is_probed() -> None:
    plan = make_plan(3, profile=Profile.MINIMAL)
    found = binds(plan)
    internal = plan.vip("internal_api").ip
    assert ("keystone", internal, 5000) in found
    assert ("keystone", plan.vip("public").ip, 5000) in found
    assert ("redis", plan.vip("redis").ip, 6379) in found
    assert ("stats", internal, 1993) in found
    assert ("mysql", internal, 3306) in binds(make_plan(3, profile=Profile.OPENSTACK))


def test_the_lab_waits_for_every_promotion_it_is_built_for() -> None:
    # galera's agent gives an unpromoted replica its promotion score only in its monitor,
    # so the scheduler can have nothing to do with one galera replica of three promoted
    plan = make_plan(3, profile=Profile.OPENSTACK)
    assert promoted_wanted(plan) == {"galera-bundle": 3, "redis-bundle": 1}
    assert promoted_wanted(make_plan(3, profile=Profile.MINIMAL)) == {}

    def bundle(rid: str, promoted: int) -> ResourceView:
        promoted_ = [
            ResourceView(f"{rid}-{i}", "primitive", None, Role.PROMOTED, (f"ctl{i}",))
            for i in range(promoted)
        ]
        other = ResourceView(f"{rid}-9", "primitive", None, Role.UNPROMOTED, ("ctl2",))
        replicas = (*promoted_, other)
        return ResourceView(rid, "bundle", None, Role.STARTED, (), children=replicas)

    def seen(*views: ResourceView) -> list[str]:
        return promotions_waiting(promoted_wanted(plan), views)

    early = (bundle("haproxy-bundle", 0), bundle("galera-bundle", 1), bundle("redis-bundle", 1))
    assert seen(*early) == ["galera-bundle: 1 of 3 promoted"]
    assert seen() == [
        "galera-bundle: 0 of 3 promoted",
        "redis-bundle: 0 of 1 promoted",
    ]
    assert seen(bundle("galera-bundle", 3), bundle("redis-bundle", 1)) == []
    # and the cluster does not count as converged meanwhile
    ready = Observation(
        ("ctl0",), "ctl0", True, (Instance("r", "Started", ("ctl0",), False),), (), (), 1, (), ()
    )
    assert ready.converged
    assert not replace(ready, promotions_waiting=("galera-bundle: 1 of 3 promoted",)).converged
