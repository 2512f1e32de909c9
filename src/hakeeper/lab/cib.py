"""The lab's cluster configuration, as a Pacemaker CIB, for a profile.

`openstack` follows the seeds' TripleO cluster (shared/examples/openstack-controllers*.cib.xml):
bundles for haproxy (3 replicas), galera (promotable, 3 promoted), rabbitmq, redis
(promotable, 1 promoted, a VIP colocated with the promoted replica), memcached and
cinder-volume (1 replica, active/passive); a stand-in API per node behind HAProxy; five
IPaddr2 VIPs colocated with HAProxy; a fence device per node. `minimal` is the part that
needs neither bundles nor promotion: VIPs, HAProxy and the API as clones of plain
primitives, and one redis.

Paths in the CIB name PRIVATE (LAB/node): every node sees its own files there (lab.node),
so one configuration serves all nodes as it does on real machines.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from hakeeper.lab.images import image_ref
from hakeeper.lab.plan import HOLDER_NAME, NODE_NIC, LabPlan, Profile

HAPROXY_VIPS = ("internal_api", "public", "storage", "storage_mgmt")
_E = etree.SubElement


def _nv(
    parent: etree._Element, set_id: str, values: dict[str, str], tag: str = "instance_attributes"
) -> etree._Element:
    attrs = _E(parent, tag, id=set_id)
    for name, value in values.items():
        _E(attrs, "nvpair", id=f"{set_id}-{name}", name=name, value=value)
    return attrs


def _ops(parent: etree._Element, rid: str, ops: list[tuple[str, str, str, str | None]]) -> None:
    operations = _E(parent, "operations")
    for name, interval, timeout, role in ops:
        op_id = f"{rid}-{name}-interval-{interval}" + (f"-{role}" if role else "")
        attrs = {"id": op_id, "name": name, "interval": interval, "timeout": timeout}
        if role:
            attrs["role"] = role
        _E(operations, "op", attrs)


def _primitive(
    parent: etree._Element,
    rid: str,
    agent: str,
    params: dict[str, str],
    ops: list[tuple[str, str, str, str | None]],
    meta: dict[str, str] | None = None,
) -> etree._Element:
    standard, _, rest = agent.partition(":")
    attrs = {"id": rid, "class": standard}
    if standard == "ocf":
        provider, _, kind = rest.partition(":")
        attrs.update(provider=provider, type=kind)
    else:
        attrs["type"] = rest
    prim = _E(parent, "primitive", attrs)
    if params:
        _nv(prim, f"{rid}-instance_attributes", params)
    if meta:
        _nv(prim, f"{rid}-meta_attributes", meta, "meta_attributes")
    _ops(prim, rid, ops)
    return prim


def _clone(parent: etree._Element, cid: str, meta: dict[str, str] | None = None) -> etree._Element:
    clone = _E(parent, "clone", id=cid)
    _nv(clone, f"{cid}-meta_attributes", {"interleave": "true", **(meta or {})}, "meta_attributes")
    return clone


def _vip(parent: etree._Element, plan: LabPlan, name: str) -> str:
    vip = plan.vip(name)
    _primitive(
        parent,
        vip.resource_id,
        "ocf:heartbeat:IPaddr2",
        {"ip": vip.ip, "cidr_netmask": str(vip.prefix), "nic": NODE_NIC},
        [
            ("start", "0s", "20s", None),
            ("stop", "0s", "20s", None),
            ("monitor", "10s", "20s", None),
        ],
    )
    return vip.resource_id


def _anything(parent: etree._Element, plan: LabPlan, rid: str, binfile: str, options: str) -> None:
    _primitive(
        parent,
        rid,
        "ocf:heartbeat:anything",
        {
            "binfile": binfile,
            "cmdline_options": options,
            "logfile": f"{plan.private_dir}/log/{rid}.log",
            # one instance per node, and /run is the node's own: a fixed name finds it
            # whatever instance number the clone gives it
            "pidfile": f"/run/{rid}.pid",
        },
        [("start", "0s", "20s", None), ("stop", "0s", "20s", None), ("monitor", "5s", "20s", None)],
    )


def promoted_wanted(plan: LabPlan) -> dict[str, int]:
    """How many promoted instances each promotable bundle has once the lab is up (galera:
    one per node, redis: one). The scheduler cannot tell: galera's agent gives a replica
    its promotion score only in its monitor, once another replica is promoted."""
    if plan.profile is not Profile.OPENSTACK:
        return {}
    rows = openstack_bundles(plan)
    return {row.id: n for row in rows if (n := _promoted_max(row, plan)) is not None}


def _promoted_max(row: BundleRow, plan: LabPlan) -> int | None:
    """The bundle's promoted-max (None: not promotable)."""
    return len(plan.nodes) if row.promoted_all else row.promoted_max


def build_cib(plan: LabPlan) -> str:
    """The CIB (configuration, empty status) for the plan's nodes and profile."""
    cib = etree.Element(
        "cib",
        {
            "crm_feature_set": "3.16.1",
            "validate-with": "pacemaker-3.9",
            "epoch": "1",
            "num_updates": "0",
            "admin_epoch": "0",
        },
    )
    config = _E(cib, "configuration")
    crm = _E(config, "crm_config")
    fencing = plan.profile is Profile.OPENSTACK
    _nv(
        crm,
        "cib-bootstrap-options",
        {
            "cluster-infrastructure": "hakeeper",
            "cluster-name": "hakeeper-lab",
            "stonith-enabled": "true" if fencing else "false",
            "have-watchdog": "false",
        },
        "cluster_property_set",
    )
    nodes = _E(config, "nodes")
    roles = ("haproxy-role", "galera-role", "rabbitmq-role", "redis-role", "cinder-volume-role")
    for node in plan.nodes:
        elem = _E(nodes, "node", id=str(node.index + 1), uname=node.name)
        if plan.profile is Profile.OPENSTACK:
            _nv(elem, f"nodes-{node.index + 1}", {role: "true" for role in roles})
    resources = _E(config, "resources")
    constraints = _E(config, "constraints")
    if plan.profile is Profile.MINIMAL:
        _minimal(plan, resources, constraints)
    else:
        _openstack(plan, resources, constraints)
    defaults = _E(config, "rsc_defaults")
    _nv(defaults, "rsc_defaults-options", {"resource-stickiness": "INFINITY"}, "meta_attributes")
    _E(cib, "status")
    return etree.tostring(cib, pretty_print=True, xml_declaration=True, encoding="UTF-8").decode()


def _colocate(
    constraints: etree._Element, rsc: str, with_rsc: str, *, with_role: str | None = None
) -> None:
    attrs = {
        "id": f"colocation-{rsc}-{with_rsc}-INFINITY",
        "rsc": rsc,
        "with-rsc": with_rsc,
        "score": "INFINITY",
    }
    if with_role:
        attrs["with-rsc-role"] = with_role
    _E(constraints, "rsc_colocation", attrs)


def _order(
    constraints: etree._Element,
    first: str,
    first_action: str,
    then: str,
    then_action: str,
    kind: str,
) -> None:
    _E(
        constraints,
        "rsc_order",
        {
            "id": f"order-{first}-{then}-{kind}",
            "first": first,
            "first-action": first_action,
            "then": then,
            "then-action": then_action,
            "kind": kind,
        },
    )


def _minimal(plan: LabPlan, resources: etree._Element, constraints: etree._Element) -> None:
    private = plan.private_dir
    vips = [_vip(resources, plan, name) for name in HAPROXY_VIPS]
    redis_vip = _vip(resources, plan, "redis")
    _anything(
        _clone(resources, "haproxy-clone"),
        plan,
        "haproxy",
        "/usr/sbin/haproxy",
        f"-db -f {private}/etc/haproxy/haproxy.cfg",
    )
    _anything(
        _clone(resources, "openstack-api-clone"),
        plan,
        "openstack-api",
        f"{private}/bin/openstack-api",
        "",
    )
    _primitive(
        resources,
        "redis",
        "ocf:heartbeat:redis",
        {"config": f"{private}/etc/redis/redis.conf"},
        [("start", "0s", "60s", None), ("stop", "0s", "60s", None), ("monitor", "5s", "20s", None)],
    )
    for vip in vips:
        _colocate(constraints, vip, "haproxy-clone")
        _order(constraints, vip, "start", "haproxy-clone", "start", "Optional")
    _colocate(constraints, redis_vip, "redis")
    _order(constraints, "redis", "start", redis_vip, "start", "Optional")


Mounts = tuple[tuple[str, str, str], ...]
Ops = tuple[tuple[str, str, str, str | None], ...]


@dataclass(frozen=True, slots=True)
class Inner:
    """The primitive a bundle wraps (its agent runs inside the replica's container)."""

    id: str
    agent: str
    params: dict[str, str]
    ops: Ops
    meta: dict[str, str] | None = None
    #: the agent has a notify action: its bundle is told of its peers' starts and stops
    #: (rabbitmq-cluster, redis). galera has none: told, it prints its usage, costing a
    #: container exec per replica before and after every start, promote and stop
    notify: bool = True


@dataclass(frozen=True, slots=True)
class BundleRow:
    """One bundle of the openstack profile. PRIVATE in a path is the node's own directory."""

    id: str
    service: str  # the image: localhost/hakeeper-lab/SERVICE:pcmklatest
    run_command: str
    mounts: Mounts = ()
    replicas: int | None = None  # None: one per node
    promoted_max: int | None = None  # None: not promotable; "all": one per node
    promoted_all: bool = False
    inner: Inner | None = None
    control_port: int | None = None
    role: str | None = None  # the node attribute (haproxy-role...) its location rule wants
    options: str = ""


#: every bundle maps these (TripleO maps the host's /etc/hosts; here the lab's own names)
COMMON_MOUNTS: Mounts = (
    ("/etc/localtime", "/etc/localtime", "ro"),
    ("PRIVATE/etc/hosts", "/etc/hosts", "ro"),
)


def openstack_bundles(plan: LabPlan) -> tuple[BundleRow, ...]:
    """The openstack profile's bundles. The inner agents are resource-agents in the image
    (as TripleO's images carry them) and run there through the engine's exec."""
    internal = [n.internal for n in plan.nodes]
    return (
        BundleRow(
            "haproxy-bundle",
            "haproxy",
            "/usr/sbin/haproxy -db -f /etc/haproxy/haproxy.cfg",
            (
                ("PRIVATE/etc/haproxy", "/etc/haproxy", "ro"),
                ("PRIVATE/haproxy", "PRIVATE/haproxy", "rw"),
            ),
            role="haproxy-role",
        ),
        BundleRow(
            "galera-bundle",
            "mariadb",
            "/bin/sleep infinity",
            (
                ("PRIVATE/mysql", "/var/lib/mysql", "rw"),
                ("PRIVATE/etc/mysql/galera.cnf", "/etc/mysql/mariadb.conf.d/99-galera.cnf", "ro"),
            ),
            promoted_all=True,
            control_port=3123,
            role="galera-role",
            inner=Inner(
                "galera",
                "ocf:heartbeat:galera",
                {
                    "enable_creation": "true",
                    "log": "/var/lib/mysql/mysqld.log",
                    "wsrep_cluster_address": "gcomm://" + ",".join(internal),
                    "cluster_host_map": ";".join(f"{n.name}:{n.internal}" for n in plan.nodes),
                },
                (
                    ("start", "0s", "120s", None),
                    ("stop", "0s", "120s", None),
                    ("promote", "0s", "300s", None),
                    ("demote", "0s", "120s", None),
                    ("monitor", "10s", "30s", "Promoted"),
                    ("monitor", "30s", "30s", "Unpromoted"),
                ),
                {"container-attribute-target": "host", "ordered": "true"},
                notify=False,
            ),
        ),
        BundleRow(
            "rabbitmq-bundle",
            "rabbitmq",
            "/bin/sleep infinity",
            (
                ("PRIVATE/rabbitmq", "/var/lib/rabbitmq", "rw"),
                ("PRIVATE/etc/rabbitmq", "/etc/rabbitmq", "ro"),
            ),
            control_port=3122,
            role="rabbitmq-role",
            inner=Inner(
                "rabbitmq",
                "ocf:heartbeat:rabbitmq-cluster",
                {"set_policy": 'ha-all ^(?!amq\\.).* {"ha-mode":"exactly","ha-params":2}'},
                (
                    ("start", "0s", "200s", None),
                    ("stop", "0s", "200s", None),
                    ("monitor", "10s", "40s", None),
                ),
            ),
        ),
        BundleRow(
            "redis-bundle",
            "redis",
            "/bin/sleep infinity",
            (("PRIVATE/redis", "/var/lib/redis", "rw"), ("PRIVATE/etc/redis", "/etc/redis", "ro")),
            promoted_max=1,
            control_port=3124,
            role="redis-role",
            inner=Inner(
                "redis",
                "ocf:heartbeat:redis",
                {"config": "/etc/redis/redis.conf", "wait_last_known_master": "true"},
                (
                    ("start", "0s", "200s", None),
                    ("stop", "0s", "200s", None),
                    ("promote", "0s", "120s", None),
                    ("demote", "0s", "120s", None),
                    ("monitor", "20s", "60s", None),
                    ("monitor", "60s", "60s", "Unpromoted"),
                    ("monitor", "45s", "60s", "Promoted"),
                ),
                {"interleave": "true"},
            ),
        ),
        BundleRow(
            "memcached-bundle",
            "memcached",
            "/usr/bin/memcached -u root -l 0.0.0.0 -p 11211 -m 64",
        ),
        BundleRow(
            "openstack-cinder-volume",
            "cinder-volume",
            # a stand-in: the service's place in the cluster, not its work
            "/bin/busybox httpd -f -p 8776 -h /var/lib/cinder",
            (("PRIVATE/cinder", "/var/lib/cinder", "rw"),),
            replicas=1,
            role="cinder-volume-role",
        ),
    )


def _bundle(resources: etree._Element, row: BundleRow, plan: LabPlan) -> None:
    bid = row.id
    bundle = _E(resources, "bundle", id=bid)
    if row.inner is not None:
        # its inner resource's attributes are the host's (galera and rabbitmq read theirs
        # per host), and it is told of its peers when its agent can be
        meta = {"container-attribute-target": "host"}
        if row.inner.notify:
            meta["notify"] = "true"
        _nv(bundle, f"{bid}-meta_attributes", meta, "meta_attributes")
    podman = {
        "image": image_ref(row.service),
        "replicas": str(row.replicas or len(plan.nodes)),
        "network": "host",
        "run-command": row.run_command,
        "options": f"--user=root --log-driver=k8s-file --log-opt "
        f"path={plan.private_dir}/log/containers/{bid}.log {row.options}".strip(),
    }
    promoted = _promoted_max(row, plan)
    if promoted is not None:
        podman["promoted-max"] = str(promoted)
    _E(bundle, "podman", podman)
    if row.control_port is not None:
        # Pacemaker's bundles reach their inner resource through pacemaker-remoted on this
        # port; hakeeper execs the agent in the container instead, but the schema wants it
        _E(bundle, "network", {"control-port": str(row.control_port)})
    storage = _E(bundle, "storage")
    for i, (source, target, opts) in enumerate(COMMON_MOUNTS + row.mounts):
        _E(
            storage,
            "storage-mapping",
            {
                "id": f"{bid}-storage-{i}",
                "source-dir": source.replace("PRIVATE", plan.private_dir),
                "target-dir": target.replace("PRIVATE", plan.private_dir),
                "options": opts,
            },
        )
    if row.inner is not None:
        inner = row.inner
        _primitive(bundle, inner.id, inner.agent, inner.params, list(inner.ops), inner.meta)


def _openstack(plan: LabPlan, resources: etree._Element, constraints: etree._Element) -> None:
    private = plan.private_dir
    rows = openstack_bundles(plan)
    for row in rows:
        _bundle(resources, row, plan)
    _anything(
        _clone(resources, "openstack-api-clone"),
        plan,
        "openstack-api",
        f"{private}/bin/openstack-api",
        "",
    )
    for name in HAPROXY_VIPS:
        rid = _vip(resources, plan, name)
        _colocate(constraints, rid, "haproxy-bundle")
        _order(constraints, rid, "start", "haproxy-bundle", "start", "Optional")
    redis_vip = _vip(resources, plan, "redis")
    _colocate(constraints, redis_vip, "redis-bundle", with_role="Promoted")
    _order(constraints, "redis-bundle", "promote", redis_vip, "start", "Optional")
    _order(constraints, "galera-bundle", "promote", "openstack-cinder-volume", "start", "Mandatory")
    for bid, role in ((r.id, r.role) for r in rows if r.role is not None):
        loc = _E(
            constraints,
            "rsc_location",
            {"id": f"location-{bid}", "rsc": bid, "resource-discovery": "exclusive"},
        )
        rule = _E(loc, "rule", id=f"location-{bid}-rule", score="0")
        _E(
            rule,
            "expression",
            id=f"location-{bid}-rule-expr",
            attribute=role,
            operation="eq",
            value="true",
        )
    for node in plan.nodes:
        # the lab's fence agent powers a namespace node off: it kills what runs there but
        # the etcd member and the namespace holder, and removes the node's VIPs
        rid = f"stonith-fence_hakeeper_lab-{node.name}"
        _primitive(
            resources,
            rid,
            "stonith:fence_hakeeper_lab",
            {"pcmk_host_list": node.name, "port": node.name, "spare": f"etcd,{HOLDER_NAME}"},
            [("monitor", "60s", "20s", None)],
        )
        _E(
            constraints,
            "rsc_location",
            id=f"location-{rid}-{node.name}--INFINITY",
            rsc=rid,
            node=node.name,
            score="-INFINITY",
        )
