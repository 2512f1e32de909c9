"""print-cmd: the run command rebuilt from real `podman inspect` JSON, checked against
the command line podman recorded when the container was created."""

from __future__ import annotations

import shlex

from hakeeper.commands.debug import run_command

from .conftest import fixture_json

GALERA = fixture_json("podman-inspect-galera.json")[0]
NOVA = fixture_json("podman-inspect-nova-api.json")[0]
NOVA_IMAGE = fixture_json("podman-image-inspect-nova-api.json")[0]


def test_bundle_replica_from_real_inspect() -> None:
    argv = run_command("podman", GALERA)
    assert argv[:4] == ("podman", "run", "--detach", "--name=galera-bundle-podman-0")
    assert argv[-4:] == (
        "localhost/openstack-mariadb:pcmklatest",
        "/bin/sh",
        "-c",
        "echo started; sleep 3600",
    )
    opts = set(argv[4:-4])
    assert opts == {
        "--label=pacemaker-bundle=galera-bundle",
        "--net=host",
        "--user=root",
        "--init",
        "--env=KOLLA_CONFIG_STRATEGY=COPY_ALWAYS",
        "--env=PCMK_remote_port=3123",
        "--volume=/tmp/hk-debug-capture/mysql.json:/var/lib/kolla/config_files/config.json:ro",
        "--volume=/tmp/hk-debug-capture/config-data/puppet-generated/mysql"
        ":/var/lib/kolla/config_files/src:ro",
        "--volume=/tmp/hk-debug-capture/mysql:/var/lib/mysql",
        "--volume=/tmp/hk-debug-capture/log:/var/log/mariadb",
    }


def _options(argv: list[str]) -> set[tuple[str, str]]:
    """(flag, value) pairs of a podman run command line, either spelling."""
    spelled = {"-d": "--detach", "-e": "--env", "-v": "--volume", "--network": "--net"}
    out: set[tuple[str, str]] = set()
    i = 2
    while i < len(argv) and argv[i].startswith("-"):
        flag, _, value = argv[i].partition("=")
        flag = spelled.get(flag, flag)
        if not value and flag not in ("--detach", "--init", "--privileged"):
            i += 1
            value = argv[i]
        out.add((flag, value.rstrip("/").replace("/:", ":")))
        i += 1
    return out


def test_agrees_with_podmans_own_create_command() -> None:
    recorded = _options(GALERA["Config"]["CreateCommand"])
    rebuilt = _options(list(run_command("podman", GALERA)))
    # What the engine does not keep: defaults given explicitly, and the SELinux relabel z.
    recorded -= {("--log-driver", "k8s-file"), ("--restart", "no")}
    recorded = {(f, v.replace(":rw,z", "")) for f, v in recorded}
    rebuilt.discard(("--name", "galera-bundle-podman-0"))
    recorded.discard(("--name", "galera-bundle-podman-0"))
    assert rebuilt == recorded


def test_service_container_subtracts_image_defaults() -> None:
    argv = run_command("podman", NOVA, NOVA_IMAGE)
    line = shlex.join(argv)
    for expected in (
        "--net=ns:/run/netns/hk-capture",
        "--privileged=true",
        "--pid=host",
        "--restart=always",
        "--tmpfs=/run:size=64m",
        "--workdir=/tmp",
        "--env=KOLLA_CONFIG_STRATEGY=COPY_ALWAYS",
        "--volume=/etc/localtime:/etc/localtime:ro",
    ):
        assert expected in argv, expected
    assert '--health-cmd=/bin/sh -c "test -d /proc/1"' in argv
    # The image's ENV and what podman adds itself are not repeated.
    assert "KOLLA_BASE_DISTRO" not in line
    assert "container=podman" not in line and "HOSTNAME=" not in line
    # Privileged holds every capability: the host's missing one is not a --cap-drop.
    assert "--cap-drop" not in line


def test_without_image_json_keeps_image_env() -> None:
    argv = run_command("podman", NOVA)
    assert "--env=KOLLA_BASE_DISTRO=debian" in argv


def test_docker_shaped_inspect() -> None:
    # docker's inspect: "/name", Entrypoint as a list, json-file logs, journald here.
    inspect = {
        "Name": "/rabbitmq-bundle-docker-0",
        "Config": {
            "Image": "192.168.24.1:8787/rhosp-rhel7/openstack-rabbitmq:pcmklatest",
            "Cmd": ["/bin/bash", "/usr/local/bin/kolla_start"],
            "Entrypoint": ["dumb-init", "--single-child", "--"],
            "Env": ["KOLLA_CONFIG_STRATEGY=COPY_ALWAYS"],
            "User": "root",
        },
        "HostConfig": {
            "NetworkMode": "host",
            "LogConfig": {"Type": "journald"},
            "RestartPolicy": {"Name": "no"},
        },
        "Mounts": [
            {
                "Type": "bind",
                "Source": "/var/lib/rabbitmq",
                "Destination": "/var/lib/rabbitmq",
                "Mode": "",
                "RW": True,
            }
        ],
    }
    argv = run_command("docker", inspect)
    assert argv[:4] == ("docker", "run", "--detach", "--name=rabbitmq-bundle-docker-0")
    assert "--log-driver=journald" in argv
    assert '--entrypoint=["dumb-init", "--single-child", "--"]' in argv
    assert not any(a.startswith("--restart") for a in argv)
    assert argv[-3:] == (
        "192.168.24.1:8787/rhosp-rhel7/openstack-rabbitmq:pcmklatest",
        "/bin/bash",
        "/usr/local/bin/kolla_start",
    )
