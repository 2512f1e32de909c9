"""The lab's images, built here from Debian packages (real debootstrap, real podman import;
a few minutes the first time on a machine, then found in the cache), hold every service."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hakeeper.lab import images
from hakeeper.lab.plan import DEFAULT_CACHE

from .conftest import need

pytestmark = pytest.mark.integration

# what each service's image must be able to run (the combined image serves them all)
PROBES = {
    "haproxy": ["haproxy", "-v"],
    "redis": ["redis-server", "--version"],
    "mariadb": ["sh", "-c", "mariadbd --version && test -e /usr/lib/galera/libgalera_smm.so"],
    "rabbitmq": [
        "sh",
        "-c",
        "test -x /usr/lib/rabbitmq/bin/rabbitmq-server && erl -noshell -eval 'halt().'",
    ],
    "memcached": ["memcached", "-V"],
    "cinder-volume": ["busybox", "true"],
}
#: what the inner agents need inside every image when run by exec: the agents themselves,
#: python3 with what the shims import, xmllint (crm_mon's XML), rsync (galera's SST)
AGENTS = [
    "sh",
    "-c",
    "for a in galera rabbitmq-cluster redis; do test -x /usr/lib/ocf/resource.d/heartbeat/$a;"
    " done && python3 -c 'import argparse, json, socket, xml.etree.ElementTree'"
    " && xmllint --version && rsync --version >/dev/null && test -x /usr/bin/mysqld_safe",
]


def test_images_are_built_once_then_found_in_the_cache() -> None:
    need("debootstrap", "podman", root=True)
    said: list[str] = []
    first = images.ensure_images(DEFAULT_CACHE, said.append)
    again = images.ensure_images(DEFAULT_CACHE, said.append)
    assert not again.built and again.seconds < 5, again
    if first.built:
        print(f"built the lab's images in {first.seconds:.0f} s")
    store = images.ImageStore(DEFAULT_CACHE)
    for service, argv in [*PROBES.items(), ("mariadb", AGENTS), ("redis", AGENTS)]:
        run = subprocess.run(
            [
                "env",
                f"CONTAINERS_CONF={store.conf}",
                *store.podman(
                    "run", "--rm", "--init", "--network", "none", images.image_ref(service), *argv
                ),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, (service, run.stdout, run.stderr)


def test_debootstraps_progress_is_read_from_what_it_leaves_in_the_rootfs(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs"
    assert images.debootstrap_stage(str(rootfs)) is None
    archives = rootfs / "var/cache/apt/archives"
    archives.mkdir(parents=True)
    assert images.debootstrap_stage(str(rootfs)) is None
    for name in ("libc6_2.36_amd64.deb", "bash_5.2_amd64.deb", "partial"):
        (archives / name).touch()
    assert images.debootstrap_stage(str(rootfs)) == "debootstrap: 2 packages downloaded"
    (rootfs / "debootstrap").mkdir()
    (rootfs / "debootstrap/debpaths").write_text("libc6 /x.deb\nbash /y.deb\nperl /z.deb\n")
    assert images.debootstrap_stage(str(rootfs)) == "debootstrap: 0 of 3 packages set up"
    (rootfs / "debootstrap/debootstrap.log").write_text(
        "Unpacking libc6 (2.36) ...\nSetting up libc6 (2.36) ...\nSetting up bash (5.2) ...\n"
    )
    assert images.debootstrap_stage(str(rootfs)) == "debootstrap: 2 of 3 packages set up"
