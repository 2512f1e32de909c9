"""Each node's own files (LAB/nodes/NAME, seen by the node as PRIVATE): service
configurations, data directories, the stand-in API; and the podman settings."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil

from hakeeper.lab.catalog import haproxy_cfg
from hakeeper.lab.images import ImageStore, image_user, write_conf
from hakeeper.lab.plan import API_PORT, REDIS_PORT, LabPlan, Node, Profile


def _write(path: str, text: str, mode: int = 0o644) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def _chown(path: str, user: str) -> None:
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return
    os.chown(path, entry.pw_uid, entry.pw_gid)


def redis_conf(plan: LabPlan, node: Node, data_dir: str, log: str) -> str:
    return "\n".join(
        [
            f"bind {node.internal} 127.0.0.1",
            f"port {REDIS_PORT}",
            "protected-mode no",
            f"dir {data_dir}",
            f"logfile {log}",
            'save ""',
            "appendonly no",
            # measured here: the default 5 s delay before a full sync is most of a failover
            "repl-diskless-sync yes",
            "repl-diskless-sync-delay 0",
            "",
        ]
    )


def galera_cnf(plan: LabPlan, node: Node) -> str:
    return "\n".join(
        [
            "[mysqld]",
            f"bind-address = {node.internal}",
            "binlog_format = ROW",
            "default-storage-engine = innodb",
            "innodb_autoinc_lock_mode = 2",
            "innodb_buffer_pool_size = 32M",
            "wsrep_on = ON",
            "wsrep_provider = /usr/lib/galera/libgalera_smm.so",
            "wsrep_cluster_name = hakeeper-lab",
            # mysql_install_db (the agent's enable_creation) wants it with rsync SST; the
            # agent's promote passes its own (gcomm:// on the bootstrap node)
            "wsrep_cluster_address = gcomm://" + ",".join(n.internal for n in plan.nodes),
            f"wsrep_node_address = {node.internal}",
            f"wsrep_node_name = {node.name}",
            "wsrep_sst_method = rsync",
            # gcomm and IST on the node's own address: every namespace has several
            f'wsrep_provider_options = "gmcast.listen_addr=tcp://{node.internal}:4567;'
            f' ist.recv_addr={node.internal}:4568"',
            "",
        ]
    )


def hosts(plan: LabPlan) -> str:
    """/etc/hosts for the containers (TripleO maps the host's): the nodes by name, so an
    agent that names a peer by its node name (redis' SLAVEOF) reaches it."""
    lines = ["127.0.0.1 localhost"]
    lines += [f"{n.internal} {n.name}" for n in plan.nodes]
    return "\n".join([*lines, ""])


def rabbitmq_cookie(plan: LabPlan) -> str:
    """The erlang cookie every node of the lab shares (made once per lab)."""
    path = f"{plan.directory}/rabbitmq.cookie"
    if not os.path.exists(path):
        _write(path, secrets.token_hex(16).upper(), 0o600)
    with open(path) as f:
        return f.read().strip()


def write_node_files(plan: LabPlan, node: Node) -> None:
    root = plan.node_dir(node.name)
    private = plan.private_dir  # what the paths below are called inside the node
    for sub in (
        "log",
        "log/containers",
        "haproxy",
        "api",
        "bin",
        "mysql",
        "rabbitmq",
        "cinder",
        "etc/haproxy",
    ):
        os.makedirs(f"{root}/{sub}", exist_ok=True)
    _write(
        f"{root}/etc/haproxy/haproxy.cfg",
        haproxy_cfg(
            plan, socket=f"{private}/haproxy/admin.sock", pidfile=f"{private}/haproxy/haproxy.pid"
        ),
    )
    _write(f"{root}/api/index.html", f"stand-in OpenStack API on {node.name}\n")
    _write(
        f"{root}/bin/openstack-api",
        "#!/bin/sh\n# a stand-in API: answers HTTP on this node's internal address\n"
        f"exec busybox httpd -f -p {node.internal}:{API_PORT} -h {private}/api\n",
        0o755,
    )
    os.makedirs(f"{root}/redis", exist_ok=True)
    _write(f"{root}/etc/hosts", hosts(plan))  # every bundle maps it
    if plan.profile is Profile.MINIMAL:
        _chown(f"{root}/redis", "redis")
        _write(
            f"{root}/etc/redis/redis.conf",
            redis_conf(plan, node, f"{private}/redis", f"{private}/redis/redis.log"),
        )
    else:
        # in a container, under the image's redis user: let it write
        os.chmod(f"{root}/redis", 0o777)
        _write(
            f"{root}/etc/redis/redis.conf",
            redis_conf(plan, node, "/var/lib/redis", "/var/lib/redis/redis.log"),
        )
        _write(f"{root}/etc/mysql/galera.cnf", galera_cnf(plan, node))
        _write(
            f"{root}/etc/rabbitmq/rabbitmq-env.conf",
            f"NODENAME=rabbit@{node.internal}\nUSE_LONGNAME=true\n",
        )
        # the listeners on the node's address: every namespace has several
        _write(
            f"{root}/etc/rabbitmq/rabbitmq.conf",
            f"listeners.tcp.default = {node.internal}:5672\nloopback_users = none\n"
            # a lost peer seen in seconds, not the default minute (TripleO lowers it too)
            "net_ticktime = 10\n",
        )
        os.chmod(f"{root}/mysql", 0o777)
        os.chmod(f"{root}/rabbitmq", 0o777)
        # the cluster's nodes must share the cookie; it belongs to the image's rabbitmq user
        cookie = f"{root}/rabbitmq/.erlang.cookie"
        _write(cookie, rabbitmq_cookie(plan), 0o400)
        ids = image_user(plan.cache, "rabbitmq")
        if ids is not None:
            os.chown(cookie, *ids)


def write_podman_conf(plan: LabPlan) -> None:
    """One storage.conf for every node: its graph root is PRIVATE/containers, which is each
    node's own; the images come read-only from the cache's store."""
    store = ImageStore(plan.cache)
    write_conf(f"{plan.directory}/podman/containers.conf")
    _write(
        f"{plan.directory}/podman/storage.conf",
        "\n".join(
            [
                "[storage]",
                'driver = "overlay"',
                f'graphroot = "{plan.private_dir}/containers"',
                'runroot = "/run/containers/storage"',
                "[storage.options]",
                f'additionalimagestores = ["{store.root}"]',
                "",
            ]
        ),
    )


def remove_lab_dir(plan: LabPlan) -> None:
    shutil.rmtree(plan.directory, ignore_errors=True)
