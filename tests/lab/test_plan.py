"""The lab's address plan and its record on disk."""

from __future__ import annotations

import ipaddress

import pytest

from hakeeper.lab import state
from hakeeper.lab.node import Proc
from hakeeper.lab.plan import Net, Profile, StoreKind, make_plan


def test_every_address_is_distinct_and_inside_its_network() -> None:
    plan = make_plan(9)
    seen: list[str] = []
    for node in plan.nodes:
        for net, address in node.addresses:
            assert ipaddress.ip_address(address) in plan.net(net)
            seen.append(address)
    seen += [v.ip for v in plan.vips]
    seen += [plan.bridge_address(net) for net in Net]
    assert len(seen) == len(set(seen))


def test_vips_are_the_seeds_ones() -> None:
    plan = make_plan(3)
    assert {v.name: v.ip for v in plan.vips} == {
        "internal_api": "172.17.1.10",
        "redis": "172.17.1.11",
        "public": "10.0.0.101",
        "storage": "172.17.3.10",
        "storage_mgmt": "172.17.4.10",
    }
    assert [n.name for n in plan.nodes] == ["ctl0", "ctl1", "ctl2"]


def test_link_names_fit_the_kernel_limit() -> None:
    plan = make_plan(9, prefix="controller", bridge="averylongbridgename")
    assert all(len(n.veth) <= 15 for n in plan.nodes)


@pytest.mark.parametrize("count", [0, 10, -1])
def test_node_count_out_of_range_is_refused(count: int) -> None:
    with pytest.raises(ValueError, match="--nodes"):
        make_plan(count)


def test_a_network_smaller_than_24_is_refused() -> None:
    nets = {net: f"10.{i}.0.0/24" for i, net in enumerate(Net)}
    nets[Net.STORAGE] = "10.9.0.0/28"
    with pytest.raises(ValueError, match="storage"):
        make_plan(3, nets=nets)


def test_store_urls() -> None:
    assert make_plan(3, store=StoreKind.ETCD).store_url.startswith(
        "etcd://172.17.1.21:2379,172.17.1.22:2379,172.17.1.23:2379?"
    )
    assert make_plan(1, directory="/x/", store=StoreKind.SQLITE).store_url.startswith(
        "sqlite:///x/store.db"
    )


def test_state_round_trips_through_its_file(tmp_path: object) -> None:
    plan = make_plan(2, directory=str(tmp_path), profile=Profile.MINIMAL, prefix="t")
    st = state.LabState(plan, 2, "t", bridge_made=True, namespaces=("t0",))
    st = st.with_proc("t0", Proc("etcd", 123, 456)).with_proc("t0", Proc("etcd", 124, 457))
    state.save(st)
    loaded = state.load(str(tmp_path))
    assert loaded == st
    assert loaded is not None and loaded.node_procs("t0")["etcd"].pid == 124


def test_an_unreadable_record_is_an_error(tmp_path: object) -> None:
    path = f"{tmp_path}/{state.STATE_FILE}"
    with open(path, "w") as f:
        f.write("{not json")
    with pytest.raises(ValueError, match=r"lab\.json"):
        state.load(str(tmp_path))
    assert state.load(f"{tmp_path}/elsewhere") is None
