"""Replica names and container specs from a bundle, as Pacemaker builds them."""

from __future__ import annotations

import pytest

from hakeeper.agents.bundle import container_name, remote_name, replica_spec
from hakeeper.agents.container import Mount
from hakeeper.model.config import Bundle

GALERA = Bundle(
    id="galera-bundle",
    engine="podman",
    engine_attrs=(
        ("image", "cluster.common.tag/mariadb:pcmklatest"),
        ("replicas", "3"),
        ("network", "host"),
        ("run-command", "/bin/bash /usr/local/bin/kolla_start"),
        ("options", "--user=root --log-driver=k8s-file -e KOLLA_CONFIG_STRATEGY=COPY_ALWAYS"),
    ),
    storage=(
        (
            ("id", "s0"),
            ("source-dir", "/var/lib/mysql"),
            ("target-dir", "/var/lib/mysql"),
            ("options", "rw,z"),
        ),
        (
            ("id", "s1"),
            ("source-dir-root", "/var/log/bundles/"),
            ("target-dir", "/var/log"),
            ("options", "rw"),
        ),
    ),
)


def test_names_are_pacemakers() -> None:
    assert container_name("galera-bundle", "podman", 0) == "galera-bundle-podman-0"
    assert remote_name("galera-bundle", 2) == "galera-bundle-2"


def test_replica_spec() -> None:
    spec = replica_spec(GALERA, 1)
    assert spec.name == "galera-bundle-podman-1"
    assert spec.image == "cluster.common.tag/mariadb:pcmklatest"
    assert spec.network == "host"
    assert spec.run_command == ("/bin/bash", "/usr/local/bin/kolla_start")
    assert spec.options == (
        "--user=root",
        "--log-driver=k8s-file",
        "-e",
        "KOLLA_CONFIG_STRATEGY=COPY_ALWAYS",
    )
    assert spec.mounts == (
        Mount("/var/lib/mysql", "/var/lib/mysql", "rw,z"),
        Mount("/var/log/bundles/galera-bundle-1", "/var/log", "rw", create=True),
    )
    assert spec.init


def test_host_network_in_the_lab_is_the_nodes_namespace() -> None:
    assert replica_spec(GALERA, 0, netns="ctl0").network == "ns:/run/netns/ctl0"


def test_a_bundle_without_image_is_refused() -> None:
    with pytest.raises(ValueError, match="no image"):
        replica_spec(Bundle(id="b", engine="podman"), 0)
