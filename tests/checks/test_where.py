"""Finding a node's services on this host: the /proc scan and what is read off a process."""

from __future__ import annotations

import os
from pathlib import Path

from hakeeper.checks.where import (
    Process,
    haproxy_config,
    haproxy_stats_socket,
    in_netns_of,
    mysql_datadir,
    redis_address,
    scan,
)


def test_scan_sees_this_process_in_the_host_namespace() -> None:
    view = scan()
    me = next(p for p in view.processes if p.pid == os.getpid())
    assert me.netns == view.host_netns
    assert me.argv and "python" in me.argv[0]
    # this host is found by its name; another name with no namespace is elsewhere
    assert view.netns_of("this-host", "this-host") == view.host_netns
    assert view.netns_of("hakeeper-no-such-node", "this-host") is None


def test_a_node_namespace_is_found_by_name(tmp_path: Path) -> None:
    (tmp_path / "ctl1").write_text("")
    view = scan()
    assert view.netns_of("ctl1", "ctl0", tmp_path) == (tmp_path / "ctl1").stat().st_ino


def test_redis_address_from_its_process_title() -> None:
    assert redis_address(
        Process(1, "redis-server", ("/usr/bin/redis-server 172.17.1.21:6379",), 1)
    ) == (
        "172.17.1.21",
        "6379",
    )
    assert redis_address(Process(1, "redis-server", ("redis-server *:6380",), 1)) == ("*", "6380")
    assert redis_address(Process(1, "redis-server", ("redis-server",), 1)) == ("127.0.0.1", "6379")


def test_haproxy_config_and_stats_socket() -> None:
    proc = Process(1, "haproxy", ("/usr/sbin/haproxy", "-db", "-f", "/etc/h.cfg"), 1)
    assert haproxy_config(proc) == "/etc/h.cfg"
    assert haproxy_config(Process(1, "haproxy", ("haproxy", "-f/x.cfg"), 1)) == "/x.cfg"
    assert haproxy_config(Process(1, "haproxy", ("haproxy",), 1)) is None
    cfg = (
        "global\n  stats socket ipv4@127.0.0.1:9999\n"
        "  stats socket /var/lib/haproxy/stats level admin\n"
    )
    assert haproxy_stats_socket(cfg) == "/var/lib/haproxy/stats"
    assert haproxy_stats_socket("global\n  maxconn 10\n") is None


def test_mysql_datadir_and_nsenter_argv() -> None:
    proc = Process(7, "mariadbd", ("mariadbd", "--datadir=/data/mysql"), 1)
    assert mysql_datadir(proc) == "/data/mysql"
    assert mysql_datadir(Process(7, "mariadbd", ("mariadbd",), 1)) == "/var/lib/mysql"
    assert in_netns_of(proc, ("mysql",), mounts=True) == (
        "nsenter", "--target", "7", "--net", "--mount", "--", "mysql",
    )  # fmt: skip
