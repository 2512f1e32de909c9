"""crm_attribute (the shim agents run) against the daemon's attribute socket."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hakeeper.cib.render import render_cib
from hakeeper.cli.node import render_status
from hakeeper.node import machine
from hakeeper.node.attrd import SHIMS, AttrServer, attrd_path

from .sim import Sim
from .test_machine_promotable import NODES, Stateful, promotable_config


def crm(sock: Path, *args: str, instance: str = "redis:0") -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "HAKEEPER_ATTRD": str(sock),
        "OCF_RESKEY_CRM_meta_on_node": "n1",
        "OCF_RESOURCE_INSTANCE": instance,
    }
    return subprocess.run(
        [f"{SHIMS}/{args[0]}", *args[1:]], env=env, capture_output=True, text=True, timeout=10
    )


def test_set_query_delete_and_refusals(tmp_path: Path) -> None:
    changes: list[tuple[str, str | None]] = []
    server = AttrServer(tmp_path / "n1.attrd", "n1", lambda n, v: changes.append((n, v)))
    sock = server.path
    try:
        assert crm(sock, "crm_attribute", "-n", "site", "-v", "a", "-l", "forever").returncode == 0
        assert crm(sock, "crm_master", "-l", "reboot", "-v", "100").returncode == 0
        assert changes == [("site", "a"), ("master-redis", "100")]
        got = crm(sock, "crm_attribute", "-n", "site", "-G", "-q")
        assert (got.returncode, got.stdout) == (0, "a\n")
        got = crm(sock, "crm_attribute", "--promotion", "-G")
        assert got.stdout == "scope=status  name=master-redis value=100\n"
        server.update_view({"n1": {"site": "a"}, "n2": {"site": "b"}})  # written back
        assert crm(sock, "crm_attribute", "-N", "n2", "-n", "site", "-G", "-q").stdout == "b\n"
        assert crm(sock, "crm_attribute", "-n", "site", "-D").returncode == 0
        assert changes[-1] == ("site", None)
        missing = crm(sock, "crm_attribute", "-n", "site", "-G", "-q")
        assert missing.returncode == 105
        other = crm(sock, "crm_attribute", "-N", "n2", "-n", "x", "-v", "1")
        assert other.returncode == 1 and "only its own" in other.stderr
        defaults = crm(sock, "crm_attribute", "--type", "rsc_defaults", "-n", "x", "-v", "1")
        assert defaults.returncode == 3 and "not supported" in defaults.stderr
    finally:
        server.close()


def test_cluster_attributes_as_the_redis_agent_sets_and_reads_them(tmp_path: Path) -> None:
    changes: list[tuple[str, str | None]] = []
    server = AttrServer(
        tmp_path / "n1.attrd",
        "n1",
        lambda n, v: None,
        on_cluster_change=lambda n, v: changes.append((n, v)),
    )
    # the agent's CRM_ATTR_REPL_INFO, with set_master's -v and last_known_master's --query
    repl = ("crm_attribute", "--type", "crm_config", "--name", "redis_REPL_INFO")
    repl += ("-s", "redis_replication")
    try:
        assert crm(server.path, *repl, "--query", "-q").returncode == 105
        assert crm(server.path, *repl, "-v", "n1", "-q").returncode == 0
        assert changes == [("redis_REPL_INFO", "n1")]
        assert crm(server.path, *repl, "--query", "-q").stdout == "n1\n"  # before written back
        server.update_view({}, {"redis_REPL_INFO": "n3"})  # another node's, as stored
        got = crm(server.path, *repl, "--query")
        assert got.stdout == "scope=crm_config  name=redis_REPL_INFO value=n3\n"
        assert crm(server.path, *repl, "-D").returncode == 0
        assert changes[-1] == ("redis_REPL_INFO", None)
        assert crm(server.path, *repl, "--query", "-q").returncode == 105
        node = crm(server.path, *repl, "-N", "n2", "-v", "x")
        assert node.returncode == 64 and "no node" in node.stderr
    finally:
        server.close()


@pytest.mark.parametrize("rendered_by", ["shim", "daemon"])
def test_crm_mon_on_cibadmin_shows_the_promoted_instance_as_the_redis_agent_greps(
    tmp_path: Path, rendered_by: str
) -> None:
    """rendered_by daemon: as inside a bundle container, where only python3's stdlib is
    found and the daemon renders crm_mon's output."""
    agent = Stateful()
    sim = Sim(NODES, agent=agent)
    sim.configure(promotable_config())
    sim.settle()
    state = sim.states["b"]
    server = AttrServer(
        tmp_path / "b.attrd",
        "b",
        lambda n, v: None,
        cib=lambda: render_cib(machine.current_cib(state) or pytest.fail("no CIB")),
        status=render_status,
    )
    env = {
        "PATH": os.environ["PATH"],
        "HAKEEPER_ATTRD": str(server.path),
        "HA_SBIN_DIR": SHIMS,
        "OCF_ROOT": "/usr/lib/ocf",
    }
    if rendered_by == "shim":
        env["HAKEEPER_PYTHON"] = sys.executable
    else:
        env["HAKEEPER_STATUS"] = "daemon"
    # redis's master_is_active(), through ocf-shellfuncs' crm_mon_no_validation
    script = (
        ". /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs; crm_mon_no_validation -1 "
        '--output-as=xml | grep -i -E \'resource.*id="db".* role="(Promoted|Master)"'
        '.* active="true".* orphaned="false".* failed="false"\''
    )
    try:
        got = subprocess.run(
            ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60
        )
        assert got.returncode == 0, got.stderr
        assert got.stdout.count("\n") == 1  # one promoted instance, of three
        queried = subprocess.run(
            [f"{SHIMS}/cibadmin", "-Q"], env=env, capture_output=True, text=True, timeout=10
        )
        assert queried.returncode == 0 and '<lrm_rsc_op id="db_last_0"' in queried.stdout
        change = subprocess.run(
            [f"{SHIMS}/cibadmin", "-R", "-x", "x.xml"], env=env, capture_output=True, text=True
        )
        assert change.returncode == 3 and "only -Q" in change.stderr
    finally:
        server.close()


def test_without_a_daemon_it_says_so(tmp_path: Path) -> None:
    got = crm(tmp_path / "absent.sock", "crm_attribute", "-n", "x", "-G")
    assert got.returncode == 1 and "could not reach the hakeeper node daemon" in got.stderr


def test_a_long_state_dir_gets_a_short_socket_path() -> None:
    assert attrd_path("/run/hakeeper", "n1") == Path("/run/hakeeper/n1.attrd")
    long = attrd_path("/tmp/" + "x" * 120, "n1")
    assert len(str(long)) < 100 and long != attrd_path("/tmp/" + "y" * 120, "n1")


def test_cibadmin_xpath_prints_the_matches_one_per_line_as_rabbitmq_cluster_reads_them(
    tmp_path: Path,
) -> None:
    cib = (
        '<cib><status><node_state uname="a" crmd="online"><transient_attributes>'
        '<instance_attributes><nvpair id="s-a-1" name="rmq-node-attr-rabbitmq" '
        'value="rabbit@10.0.0.1"/><nvpair id="s-a-2" name="other" value="x"/>'
        "</instance_attributes></transient_attributes></node_state>"
        '<node_state uname="b" crmd="online"><transient_attributes><instance_attributes>'
        '<nvpair id="s-b-1" name="rmq-node-attr-rabbitmq" value="rabbit@10.0.0.2"/>'
        "</instance_attributes></transient_attributes></node_state>"
        '<node_state uname="c" crmd="offline"><transient_attributes><instance_attributes>'
        '<nvpair id="s-c-1" name="rmq-node-attr-rabbitmq" value="rabbit@10.0.0.3"/>'
        "</instance_attributes></transient_attributes></node_state></status></cib>"
    )
    server = AttrServer(tmp_path / "a.attrd", "a", lambda n, v: None, cib=lambda: cib.encode())
    env = {"PATH": os.environ["PATH"], "HAKEEPER_ATTRD": str(server.path)}
    name = "rmq-node-attr-rabbitmq"
    # the agent's own pipeline (rmq_join_list)
    script = (
        f"{SHIMS}/cibadmin -Q --xpath \"//node_state[@crmd='online']//nvpair[@name='{name}']\""
        f' | grep "{name}" | sed -n -e "s/^.*value=.\\(.*\\)\\".*$/\\1/p"'
    )
    try:
        got = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True)
        assert got.stdout.split() == ["rabbit@10.0.0.1", "rabbit@10.0.0.2"], got.stderr
        none = subprocess.run(
            [f"{SHIMS}/cibadmin", "-Q", "--xpath", "//nvpair[@name='absent']"],
            env=env,
            capture_output=True,
            text=True,
        )
        assert none.returncode == 105 and none.stdout == ""
    finally:
        server.close()


def test_inside_a_bundle_with_container_attribute_target_host_the_host_is_set(
    tmp_path: Path,
) -> None:
    changes: list[tuple[str, str | None]] = []
    server = AttrServer(tmp_path / "n1.attrd", "n1", lambda n, v: changes.append((n, v)))
    env = {
        "PATH": os.environ["PATH"],
        "HAKEEPER_ATTRD": str(server.path),
        "OCF_RESKEY_CRM_meta_on_node": "redis-bundle-0",
        "OCF_RESKEY_CRM_meta_physical_host": "n1",
        "OCF_RESKEY_CRM_meta_container_attribute_target": "host",
        "OCF_RESOURCE_INSTANCE": "redis",
    }
    try:
        got = subprocess.run(
            [f"{SHIMS}/crm_master", "-l", "reboot", "-v", "5"], env=env, capture_output=True
        )
        assert got.returncode == 0, got.stderr
        assert changes == [("master-redis", "5")]
    finally:
        server.close()
