"""Container images built here from Debian packages: no registry is reachable.

One combined image (debootstrap --variant=minbase plus every service package), imported
once with `podman import` into an image store in the cache and tagged once per service
(localhost/hakeeper-lab/redis:pcmklatest, ...), so the CIB names an image per service as
the seeds' do. Why one: the services share most of their dependencies (libc, perl,
openssl...), so one debootstrap installs them once and one import stores them once; five
rootfs would cost five times the unpacking and the disk for the same bytes. The nodes'
podman see the store read-only (storage.conf additionalimagestores), so a lab coming up
again finds the images there and imports nothing.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hakeeper.lab import system
from hakeeper.reports import CommandError, Report, codes

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = (
    "haproxy",
    "redis-server",
    "mariadb-server",
    "galera-4",
    "rabbitmq-server",
    "memcached",
    "procps",
    "iproute2",
    "psmisc",
    "busybox",
    # the inner OCF agents run inside the containers (as TripleO's images carry them),
    # with what they call: the shims are Python (python3), rabbitmq-cluster and galera
    # read crm_mon's XML with xmllint, galera's SST copies with rsync
    "resource-agents",
    "python3",
    "libxml2-utils",
    "rsync",
)
SERVICES = ("haproxy", "redis", "mariadb", "rabbitmq", "memcached", "cinder-volume")
TAG = "pcmklatest"
RUNROOT_MAX = 50  # podman's limit
#: what a running container never reads: dropped before the import (about 200 MB)
TRIM = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/locale",
    "usr/share/info",
)

CONTAINERS_CONF = """# hakeeper lab: podman settings that work on these machines
[containers]
# no CAP_SYS_RESOURCE here: podman's default rlimits (above this process's own) cannot be
# set, so set them explicitly, within this process's (nproc 65536 was refused here, 4096
# works)
default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]
netns = "none"
[engine]
# crun refuses this machine's cgroup hybrid mode; runc works
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


def image_ref(service: str) -> str:
    return f"localhost/hakeeper-lab/{service}:{TAG}"


def cache_key() -> str:
    text = "\n".join([SUITE, MIRROR, *PACKAGES, *TRIM])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class ImageStore:
    """Where the images live: a podman graph root in the cache, keyed by what is in them."""

    cache: str

    @property
    def root(self) -> str:
        return f"{self.cache}/images-{cache_key()}/store"

    @property
    def runroot(self) -> str:
        return f"{self.cache}/images-{cache_key()}/run"

    @property
    def passwd(self) -> str:
        """A copy of the image's /etc/passwd: the lab's files (the erlang cookie) belong to
        the image's service users, whose ids the host does not know."""
        return f"{self.cache}/images-{cache_key()}/passwd"

    @property
    def conf(self) -> str:
        return f"{self.cache}/containers.conf"

    def podman(self, *args: str) -> list[str]:
        return [
            "podman",
            "--root",
            self.root,
            "--runroot",
            self.runroot,
            "--storage-driver",
            "overlay",
            *args,
        ]

    def env(self) -> dict[str, str]:
        return {"CONTAINERS_CONF": self.conf, "HOME": "/root"}

    def ready(self) -> bool:
        if not os.path.isdir(self.root) or not os.path.isfile(self.passwd):
            return False
        out = system.attempt(
            [
                "env",
                f"CONTAINERS_CONF={self.conf}",
                *self.podman("image", "exists", image_ref(SERVICES[-1])),
            ]
        )
        return out.code == 0


@dataclass(frozen=True, slots=True)
class BuildResult:
    built: bool  # False: found in the cache
    seconds: float
    size_bytes: int | None


def _limit(kind: int, wanted: int) -> int:
    """At most this process's own soft limit: above it, runc is refused here."""
    soft = resource.getrlimit(kind)[0]
    return wanted if soft == resource.RLIM_INFINITY else min(wanted, soft)


def write_conf(path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(
            CONTAINERS_CONF.replace("{nofile}", str(_limit(resource.RLIMIT_NOFILE, 65536))).replace(
                "{nproc}", str(_limit(resource.RLIMIT_NPROC, 4096))
            )
        )


def ensure_images(cache: str, say: Callable[[str], None]) -> BuildResult:
    """The images, from the cache or built now (debootstrap, trim, tar, import, tag)."""
    began = time.monotonic()
    store = ImageStore(cache)
    if len(store.runroot) > RUNROOT_MAX:
        raise CommandError(
            Report.error(
                codes.BAD_OPTION,
                f"the image cache {cache} is too deep: podman refuses its run root "
                f"{store.runroot} (longer than {RUNROOT_MAX} characters)",
                hint="choose a shorter --cache",
            )
        )
    write_conf(store.conf)
    if store.ready():
        return BuildResult(False, time.monotonic() - began, None)
    for tool in ("debootstrap", "podman", "tar"):
        if shutil.which(tool, path=system.PATH) is None:
            raise CommandError(
                Report.error(
                    codes.LAB_MISSING_TOOL,
                    f"{tool} is not installed: the images cannot be built",
                    hint="make install (it installs the Debian packages the lab needs)",
                )
            )
    work = f"{cache}/build-{cache_key()}"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    rootfs = f"{work}/rootfs"
    try:
        say(f"debootstrap {SUITE} ({len(PACKAGES)} service packages): a few minutes, once")
        debs = "/var/cache/apt/archives"
        argv = ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}"]
        if os.path.isdir(debs):
            argv.append(f"--cache-dir={debs}")  # reuse what apt already downloaded
        done = threading.Event()
        progress = threading.Thread(
            target=_debootstrap_progress, args=(rootfs, say, done), daemon=True
        )
        progress.start()
        try:
            _build_step([*argv, SUITE, rootfs, MIRROR], 3600, "debootstrap", work)
        finally:
            done.set()
            progress.join()
        for part in TRIM:
            shutil.rmtree(f"{rootfs}/{part}", ignore_errors=True)
        os.makedirs(os.path.dirname(store.passwd), exist_ok=True)
        shutil.copyfile(f"{rootfs}/etc/passwd", store.passwd)
        tarball = f"{work}/rootfs.tar"
        say("packing the root filesystem")
        _build_step(["tar", "-C", rootfs, "--numeric-owner", "-cf", tarball, "."], 600, "tar", work)
        shutil.rmtree(rootfs, ignore_errors=True)
        say("podman import")
        first = image_ref(SERVICES[0])
        _build_step(
            [
                "env",
                f"CONTAINERS_CONF={store.conf}",
                *store.podman(
                    "import", "--change", 'CMD ["/bin/sleep", "infinity"]', tarball, first
                ),
            ],
            900,
            "podman import",
            work,
        )
        for service in SERVICES[1:]:
            _build_step(
                [
                    "env",
                    f"CONTAINERS_CONF={store.conf}",
                    *store.podman("tag", first, image_ref(service)),
                ],
                60,
                "podman tag",
                work,
            )
        size = os.path.getsize(tarball)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BuildResult(True, time.monotonic() - began, size)


def image_user(cache: str, user: str) -> tuple[int, int] | None:
    """(uid, gid) of `user` in the lab's image; None if the image or the user is unknown."""
    try:
        with open(ImageStore(cache).passwd) as f:
            for line in f:
                fields = line.split(":")
                if len(fields) > 3 and fields[0] == user:
                    return int(fields[2]), int(fields[3])
    except (OSError, ValueError):
        return None
    return None


def _debootstrap_progress(
    rootfs: str, say: Callable[[str], None], done: threading.Event, every: float = 20.0
) -> None:
    """Say how far debootstrap is, every `every` s while it runs and moves on."""
    last = None
    while not done.wait(every):
        stage = debootstrap_stage(rootfs)
        if stage is not None and stage != last:
            say(stage)
            last = stage


def debootstrap_stage(rootfs: str) -> str | None:
    """How far a debootstrap into rootfs is, from what it leaves there: the packages it
    downloaded, then (once it wrote the list of them, debootstrap/debpaths) how many of
    them dpkg set up (its log's "Setting up" lines). None before the first download."""
    try:
        with open(f"{rootfs}/debootstrap/debpaths") as f:
            total = sum(1 for line in f if line.strip())
    except OSError:
        try:
            got = sum(
                1 for n in os.listdir(f"{rootfs}/var/cache/apt/archives") if n.endswith(".deb")
            )
        except OSError:
            return None
        return f"debootstrap: {got} packages downloaded" if got else None
    try:
        with open(f"{rootfs}/debootstrap/debootstrap.log", errors="replace") as f:
            set_up = sum(1 for line in f if line.startswith("Setting up "))
    except OSError:
        set_up = 0
    return f"debootstrap: {min(set_up, total)} of {total} packages set up"


def _build_step(argv: list[str], timeout: float, what: str, work: str) -> None:
    try:
        system.run(argv, timeout=timeout, what=what)
    except CommandError as err:
        raise CommandError(
            Report.error(
                codes.LAB_IMAGE_BUILD_FAILED,
                f"building the lab's image: {err.reports[0].message}",
                hint=f"needs {MIRROR} reachable; the build directory {work} is removed",
            )
        ) from err


def remove_store(cache: str) -> None:
    """The images and everything else in the cache (`lab down --purge`)."""
    store = ImageStore(cache)
    if os.path.isdir(store.root):
        system.attempt(
            ["env", f"CONTAINERS_CONF={store.conf}", *store.podman("rmi", "--all", "--force")],
            timeout=120,
        )
        # overlay layers may still be mounted after a crash
        system.attempt(
            ["env", f"CONTAINERS_CONF={store.conf}", *store.podman("system", "reset", "--force")],
            timeout=120,
        )
    shutil.rmtree(cache, ignore_errors=True)
