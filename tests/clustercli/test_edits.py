"""Library commands that edit the stored CIB, on the memory and sqlite stores."""

from __future__ import annotations

import pytest
from lxml import etree

from hakeeper.cib.edit import find_resource, values_of
from hakeeper.commands import cib_io, constraints, history
from hakeeper.commands import cluster_options as opts
from hakeeper.commands import resource_config as rc
from hakeeper.commands.cib_store import load
from hakeeper.commands.cluster import cluster_setup
from hakeeper.commands.env import Env
from hakeeper.coord import StatusKey, StatusKind
from hakeeper.model.config import Bundle, Clone, Group, Location, Primitive
from hakeeper.reports import CommandError, codes

from .conftest import needs_promotable

VIP = rc.ResourceSpec(
    "vip",
    "ocf:heartbeat:IPaddr2",
    params=(("ip", "10.0.0.10"),),
    ops=(rc.OpSpec("monitor", (("interval", "5s"),)),),
)


def stored_xml(env: Env) -> etree._Element:
    with env.coordinator() as coord:
        doc = coord.read_config()
    assert doc is not None
    return etree.fromstring(doc.xml.encode())


def test_setup_writes_nodes_and_properties(env: Env) -> None:
    dto = cluster_setup(env, "demo", ["ctl1", "ctl2"])
    root = stored_xml(env)
    assert [(n.get("id"), n.get("uname")) for n in root.iterfind(".//nodes/node")] == [
        ("1", "ctl1"),
        ("2", "ctl2"),
    ]
    props = {p.get("name"): p.get("value") for p in root.iterfind(".//crm_config//nvpair")}
    assert props == {"cluster-infrastructure": "hakeeper", "cluster-name": "demo"}
    assert dto.revision > 0


def test_setup_refuses_to_replace_a_cluster(env: Env) -> None:
    cluster_setup(env, "demo", ["ctl1"])
    with pytest.raises(CommandError) as err:
        cluster_setup(env, "other", ["ctl9"])
    assert err.value.codes == [codes.CLUSTER_EXISTS]
    assert load(env).cib.configuration.nodes[0].uname == "ctl1"
    cluster_setup(env, "other", ["ctl9"], force=True)
    assert load(env).cib.configuration.nodes[0].uname == "ctl9"


def test_commands_need_a_cluster(env: Env) -> None:
    with pytest.raises(CommandError) as err:
        rc.resource_create(env, VIP)
    assert err.value.codes == [codes.CLUSTER_NOT_SET_UP]


def test_create_writes_pcs_ids_and_a_monitor(cluster: Env) -> None:
    rc.resource_create(cluster, VIP)
    rc.resource_create(cluster, rc.ResourceSpec("web", "ocf:heartbeat:Dummy"))
    root = stored_xml(cluster)
    vip = root.find(".//primitive[@id='vip']")
    assert vip is not None
    assert vip.find("instance_attributes/nvpair").attrib == {
        "id": "vip-instance_attributes-ip",
        "name": "ip",
        "value": "10.0.0.10",
    }
    assert [o.get("id") for o in vip.iterfind("operations/op")] == ["vip-monitor-interval-5s"]
    web_ops = root.findall(".//primitive[@id='web']/operations/op")
    assert [(o.get("name"), o.get("interval")) for o in web_ops] == [("monitor", "10s")]
    assert root.get("epoch") == "4"  # setup 1, property 2, two creates


@needs_promotable  # makes a promotable clone, refused until the scheduler has them
def test_create_clone_promotable_group_and_bundle(cluster: Env) -> None:
    rc.resource_create(
        cluster, rc.ResourceSpec("web", "ocf:heartbeat:Dummy", clone=(("interleave", "true"),))
    )
    rc.resource_create(
        cluster, rc.ResourceSpec("st", "ocf:pacemaker:Stateful", clone=(), promotable=True)
    )
    rc.resource_create(cluster, rc.ResourceSpec("a", "ocf:heartbeat:Dummy", group="g"))
    rc.resource_create(cluster, rc.ResourceSpec("b", "ocf:heartbeat:Dummy", group="g", before="a"))
    rc.bundle_create(
        cluster,
        rc.BundleSpec(
            "rb",
            "podman",
            (("image", "localhost/redis"), ("replicas", "3")),
            (("control-port", "3121"),),
            ((("port", "6379"),),),
        ),
    )
    rc.resource_create(cluster, rc.ResourceSpec("redis", "ocf:heartbeat:redis", bundle="rb"))
    config = load(cluster).cib.configuration
    web = find_resource(config, "web-clone")
    assert isinstance(web, Clone) and values_of(web.meta) == {"interleave": "true"}
    st = find_resource(config, "st-clone")
    assert isinstance(st, Clone) and values_of(st.meta) == {"promotable": "true"}
    group = find_resource(config, "g")
    assert isinstance(group, Group) and [c.id for c in group.children] == ["b", "a"]
    bundle = find_resource(config, "rb")
    assert isinstance(bundle, Bundle)
    assert dict(bundle.engine_attrs) == {"image": "localhost/redis", "replicas": "3"}
    assert bundle.network is not None and bundle.network.control_port == "3121"
    assert bundle.network.port_mappings == ((("id", "rb-port-map-6379"), ("port", "6379")),)
    assert isinstance(bundle.child, Primitive) and bundle.child.id == "redis"
    rc.bundle_update(cluster, rc.BundleSpec("rb", container=(("replicas", "2"),)))
    bundle = find_resource(load(cluster).cib.configuration, "rb")
    assert isinstance(bundle, Bundle) and bundle.engine_attr("replicas") == "2"
    assert bundle.child is not None  # the update keeps what it does not name


def test_update_sets_and_removes_attributes_and_replaces_ops(cluster: Env) -> None:
    rc.resource_create(cluster, VIP)
    rc.resource_update(
        cluster,
        "vip",
        params={"ip": "10.0.0.11", "cidr_netmask": "24"},
        meta={"resource-stickiness": "100"},
        ops=[rc.OpSpec("monitor", (("interval", "20s"), ("timeout", "40s")))],
    )
    prim = find_resource(load(cluster).cib.configuration, "vip")
    assert isinstance(prim, Primitive)
    assert values_of(prim.params) == {"ip": "10.0.0.11", "cidr_netmask": "24"}
    assert values_of(prim.meta) == {"resource-stickiness": "100"}
    assert [(o.id, o.interval, o.timeout) for o in prim.ops] == [
        ("vip-monitor-interval-20s", "20s", "40s")
    ]
    rc.resource_update(
        cluster, "vip", params={"cidr_netmask": None}, meta={"resource-stickiness": None}
    )
    prim = find_resource(load(cluster).cib.configuration, "vip")
    assert isinstance(prim, Primitive)
    assert values_of(prim.params) == {"ip": "10.0.0.11"} and prim.meta == ()


def test_enable_disable_set_target_role(cluster: Env) -> None:
    rc.resource_create(cluster, VIP)
    rc.resource_disable(cluster, ["vip"])
    root = stored_xml(cluster)
    pair = root.find(".//primitive[@id='vip']/meta_attributes/nvpair")
    assert pair is not None and pair.attrib == {
        "id": "vip-meta_attributes-target-role",
        "name": "target-role",
        "value": "Stopped",
    }
    rc.resource_enable(cluster, ["vip"])
    assert stored_xml(cluster).find(".//primitive[@id='vip']/meta_attributes") is None


def test_move_ban_clear_use_crm_resource_ids(cluster: Env) -> None:
    rc.resource_create(cluster, VIP)
    rc.resource_move(cluster, "vip", "ctl2")
    rc.resource_ban(cluster, "vip", "ctl3")
    rc.resource_ban(cluster, "vip", "ctl1", promoted=True)
    root = stored_xml(cluster)
    locs = [dict(c.attrib) for c in root.iterfind(".//constraints/rsc_location")]
    assert locs == [
        {
            "id": "cli-prefer-vip",
            "rsc": "vip",
            "node": "ctl2",
            "score": "INFINITY",
            "role": "Started",
        },
        {
            "id": "cli-ban-vip-on-ctl3",
            "rsc": "vip",
            "node": "ctl3",
            "score": "-INFINITY",
            "role": "Started",
        },
        {
            "id": "cli-ban-vip-on-ctl1",
            "rsc": "vip",
            "node": "ctl1",
            "score": "-INFINITY",
            "role": "Promoted",
        },
    ]
    rc.resource_move(cluster, "vip", "ctl3")  # a second move replaces the first
    prefer = [c for c in load(cluster).cib.configuration.constraints if c.id == "cli-prefer-vip"]
    assert len(prefer) == 1 and isinstance(prefer[0], Location) and prefer[0].node == "ctl3"
    result = rc.resource_clear(cluster, "vip", "ctl1")
    assert result.removed == ("cli-ban-vip-on-ctl1",)
    result = rc.resource_clear(cluster, "vip")
    assert sorted(result.removed) == ["cli-ban-vip-on-ctl3", "cli-prefer-vip"]
    assert load(cluster).cib.configuration.constraints == ()


def test_move_without_node_bans_the_current_one(cluster: Env) -> None:
    rc.resource_create(cluster, VIP)
    rc.resource_move(cluster, "vip", None, current_node="ctl1")
    assert [c.id for c in load(cluster).cib.configuration.constraints] == ["cli-ban-vip-on-ctl1"]
    with pytest.raises(CommandError) as err:
        rc.resource_move(cluster, "vip", None, current_node=None)
    assert err.value.codes == [codes.RESOURCE_NOT_ACTIVE]


def test_delete_removes_its_constraints(cluster: Env) -> None:
    rc.resource_create(cluster, VIP)
    rc.resource_create(cluster, rc.ResourceSpec("web", "ocf:heartbeat:Dummy"))
    constraints.colocation_add(cluster, "vip", "web")
    constraints.order_add(cluster, "web", "vip")
    constraints.location_add(cluster, None, "web", "ctl1", "50")
    result = rc.resource_delete(cluster, "vip")
    assert sorted(result.removed) == ["colocation-vip-web-INFINITY", "order-web-vip-mandatory"]
    config = load(cluster).cib.configuration
    assert [c.id for c in config.constraints] == ["location-web-ctl1-50"]
    assert find_resource(config, "vip") is None


def test_delete_last_group_member_deletes_the_group(cluster: Env) -> None:
    rc.resource_create(cluster, rc.ResourceSpec("a", "ocf:heartbeat:Dummy", group="g"))
    rc.resource_delete(cluster, "a")
    assert load(cluster).cib.configuration.resources == ()


@needs_promotable  # makes a promotable clone, refused until the scheduler has them
def test_constraints_add_list_remove(cluster: Env) -> None:
    rc.resource_create(cluster, VIP)
    rc.resource_create(cluster, rc.ResourceSpec("st", "ocf:pacemaker:Stateful", promotable=True))
    constraints.colocation_add(cluster, "vip", "st-clone", "INFINITY", with_role="Promoted")
    constraints.order_add(cluster, "st-clone", "vip", first_action="promote", kind="Optional")
    constraints.location_add(
        cluster, "vip-prefers-ctl1", "vip", "ctl1", "100", resource_discovery="exclusive"
    )
    root = stored_xml(cluster)
    assert root.find(".//rsc_colocation").attrib == {
        "id": "colocation-vip-st-clone-INFINITY",
        "rsc": "vip",
        "with-rsc": "st-clone",
        "score": "INFINITY",
        "with-rsc-role": "Promoted",
    }
    assert root.find(".//rsc_order").attrib == {
        "id": "order-st-clone-vip-Optional",
        "first": "st-clone",
        "then": "vip",
        "first-action": "promote",
        "then-action": "start",
        "kind": "Optional",
    }
    assert root.find(".//rsc_location").attrib == {
        "id": "vip-prefers-ctl1",
        "rsc": "vip",
        "node": "ctl1",
        "score": "100",
        "resource-discovery": "exclusive",
    }
    constraints.constraint_remove(cluster, ["colocation-vip-st-clone-INFINITY", "vip-prefers-ctl1"])
    assert [c.id for c in load(cluster).cib.configuration.constraints] == [
        "order-st-clone-vip-Optional"
    ]


def test_property_set_and_unset(cluster: Env) -> None:
    opts.property_set(cluster, {"no-quorum-policy": "ignore", "maintenance-mode": "true"})
    assert opts.property_list(cluster) == {
        "cluster-infrastructure": "hakeeper",
        "cluster-name": "demo",
        "stonith-enabled": "false",
        "no-quorum-policy": "ignore",
        "maintenance-mode": "true",
    }
    opts.property_set(cluster, {"maintenance-mode": None})
    assert "maintenance-mode" not in opts.property_list(cluster)
    pair = stored_xml(cluster).find(".//nvpair[@name='no-quorum-policy']")
    assert pair is not None and pair.get("id") == "cib-bootstrap-options-no-quorum-policy"


def test_node_standby_maintenance_and_attributes(cluster: Env) -> None:
    opts.node_standby(cluster, ["ctl2"], True)
    opts.node_maintenance(cluster, ["ctl3"], True)
    opts.node_attribute_set(cluster, "ctl1", {"galera-role": "true"})
    assert opts.node_attributes(cluster) == {
        "ctl1": {"galera-role": "true"},
        "ctl2": {"standby": "on"},
        "ctl3": {"maintenance": "on"},
    }
    pair = stored_xml(cluster).find(".//node[@uname='ctl2']/instance_attributes/nvpair")
    assert pair is not None and pair.attrib == {
        "id": "nodes-2-standby",
        "name": "standby",
        "value": "on",
    }
    opts.node_standby(cluster, ["ctl2"], False)
    assert opts.node_attributes(cluster)["ctl2"] == {}


def test_export_import_round_trip(cluster: Env) -> None:
    rc.resource_create(cluster, VIP)
    exported = cib_io.cib_export(cluster)
    text = cib_io.cib_text(exported)
    rc.resource_delete(cluster, "vip")
    cib_io.cib_import(cluster, text, "export.xml")
    assert find_resource(load(cluster).cib.configuration, "vip") is not None
    with pytest.raises(CommandError) as err:  # an import based on an old export
        cib_io.cib_import(cluster, text, "export.xml", expected_revision=exported.revision)
    assert err.value.codes == [codes.CONFIG_CONFLICT]
    assert err.value.exit_code == 3


def test_import_rejects_an_invalid_cib_and_keeps_the_stored_one(cluster: Env) -> None:
    before = cib_io.cib_text(cib_io.cib_export(cluster))
    bad = before.replace(
        "<resources/>",
        '<resources><primitive id="x" class="ocf" '
        'provider="heartbeat" type="Dummy"/><primitive id="x" class="ocf" '
        'provider="heartbeat" type="Dummy"/></resources>',
    )
    with pytest.raises(CommandError) as err:
        cib_io.cib_import(cluster, bad, "bad.xml")
    assert codes.CIB_DUPLICATE_ID in err.value.codes
    assert cib_io.cib_text(cib_io.cib_export(cluster)) == before


def test_cleanup_forgets_failures_refresh_forgets_all(cluster: Env) -> None:
    rc.resource_create(cluster, VIP)
    rc.resource_create(cluster, rc.ResourceSpec("web", "ocf:heartbeat:Dummy"))
    ok = {"agent": ["ocf", "heartbeat", "Dummy"], "ops": {"web_last_0": {"id": "web_last_0"}}}
    failed = {
        "agent": ["ocf", "heartbeat", "IPaddr2"],
        "ops": {
            "vip_last_0": {"id": "vip_last_0"},
            "vip_last_failure_0": {"id": "vip_last_failure_0"},
        },
    }
    with cluster.coordinator() as coord:
        coord.write_status(
            {
                StatusKey("ctl1", StatusKind.OP_HISTORY, "vip"): failed,
                StatusKey("ctl1", StatusKind.OP_HISTORY, "web"): ok,
                StatusKey("ctl1", StatusKind.FAIL_COUNT, "vip"): {"start": 1},
            }
        )
        coord.write_status({StatusKey("ctl2", StatusKind.OP_HISTORY, "web"): ok})
    dto = history.resource_cleanup(cluster)
    assert dto.cleared == (("ctl1", "vip"),)
    with cluster.coordinator() as coord:
        left = set(coord.read_status().documents)
    assert left == {
        StatusKey("ctl1", StatusKind.OP_HISTORY, "web"),
        StatusKey("ctl2", StatusKind.OP_HISTORY, "web"),
    }
    dto = history.resource_cleanup(cluster, "web", "ctl2", refresh=True)
    assert dto.cleared == (("ctl2", "web"),)
    with cluster.coordinator() as coord:
        assert set(coord.read_status().documents) == {
            StatusKey("ctl1", StatusKind.OP_HISTORY, "web")
        }


def test_an_edit_that_changes_nothing_writes_nothing(cluster: Env) -> None:
    rc.resource_create(cluster, VIP)
    before = load(cluster).revision
    result = rc.resource_enable(cluster, ["vip"])  # it has no target-role
    assert not result.changed and load(cluster).revision == before


def test_meta_and_groups(cluster: Env) -> None:
    for name in ("a", "b", "c"):
        rc.resource_create(cluster, rc.ResourceSpec(name, "ocf:heartbeat:Dummy"))
    rc.resource_meta(cluster, "a", {"migration-threshold": "3"})
    rc.group_add(cluster, "g", ["c", "a"])
    rc.group_add(cluster, "g", ["b"], before="a")
    constraints.colocation_add(cluster, "g", "c")  # names the group and a member
    config = load(cluster).cib.configuration
    group = find_resource(config, "g")
    assert isinstance(group, Group) and [m.id for m in group.children] == ["c", "b", "a"]
    assert [r.id for r in config.resources] == ["g"]
    a = find_resource(config, "a")
    assert a is not None and values_of(a.meta) == {"migration-threshold": "3"}
    rc.group_remove(cluster, "g", ["b"])
    config = load(cluster).cib.configuration
    assert [r.id for r in config.resources] == ["g", "b"]
    result = rc.group_remove(cluster, "g")  # ungroup: the group and its constraints go
    assert result.removed == ("colocation-g-c-INFINITY",)
    config = load(cluster).cib.configuration
    assert [r.id for r in config.resources] == ["c", "a", "b"]
    assert config.constraints == ()
    with pytest.raises(CommandError) as err:
        rc.group_remove(cluster, "g")
    assert err.value.codes == [codes.CIB_UNKNOWN_RESOURCE]


def test_group_add_refuses_clones(cluster: Env) -> None:
    rc.resource_create(cluster, rc.ResourceSpec("web", "ocf:heartbeat:Dummy", clone=()))
    before = load(cluster)
    for rsc in ("web", "web-clone"):
        with pytest.raises(CommandError) as err:
            rc.group_add(cluster, "g", [rsc])
        assert err.value.codes == [codes.CIB_BAD_VALUE]
    assert load(cluster).revision == before.revision


@needs_promotable  # makes a promotable clone, refused until the scheduler has them
def test_clone_and_unclone(cluster: Env) -> None:
    rc.resource_create(cluster, rc.ResourceSpec("a", "ocf:heartbeat:Dummy", group="g"))
    rc.resource_create(cluster, rc.ResourceSpec("st", "ocf:pacemaker:Stateful"))
    rc.resource_clone(cluster, "g", [("interleave", "true")])
    rc.resource_clone(cluster, "st", promotable=True)
    config = load(cluster).cib.configuration
    g = find_resource(config, "g-clone")
    assert isinstance(g, Clone) and isinstance(g.child, Group)
    assert values_of(g.meta) == {"interleave": "true"}
    st = find_resource(config, "st-clone")
    assert isinstance(st, Clone) and values_of(st.meta) == {"promotable": "true"}
    with pytest.raises(CommandError) as err:
        rc.resource_clone(cluster, "a")  # in a group, inside a clone
    assert err.value.codes == [codes.CIB_BAD_VALUE]
    constraints.colocation_add(cluster, "g-clone", "st-clone")
    result = rc.resource_unclone(cluster, "st")  # named by its child
    assert result.removed == ("colocation-g-clone-st-clone-INFINITY",)
    config = load(cluster).cib.configuration
    assert [r.id for r in config.resources] == ["g-clone", "st"]
    assert isinstance(find_resource(config, "st"), Primitive)
