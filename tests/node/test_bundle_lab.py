"""Bundles run by the node daemons: the 3 namespace nodes of nscluster.py on a real etcd, a
real podman (runc) and the real ocf:heartbeat:Dummy inside each replica's container. The
image is made here in seconds from the host's own files (busybox, resource-agents' OCF
tree), not by the lab's debootstrap."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tarfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hakeeper.agents.container import ContainerEngine, State
from hakeeper.coord import Coordinator, StatusKey, StatusKind
from hakeeper.node import machine

from .nscluster import NODES, NsCluster, missing, wait_for

pytestmark = pytest.mark.integration

BUNDLE = "hkb-dummy"
CONTAINERS_CONF = """[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


def build_image(engine: ContainerEngine, work: Path, reference: str) -> None:
    """busybox as every tool, and the host's /usr/lib/ocf (the real agents)."""
    root = work / "rootfs"
    dirs = ("bin", "etc", "proc", "sys", "dev", "tmp", "root", "run/resource-agents", "usr/lib")
    for sub in dirs:
        (root / sub).mkdir(parents=True, exist_ok=True)
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    applets = subprocess.run(
        ["/bin/busybox", "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    for applet in applets:
        if applet != "busybox":
            (root / "bin" / applet).symlink_to("busybox")
    (root / "usr" / "bin").symlink_to("../bin")
    (root / "usr" / "sbin").symlink_to("../bin")
    (root / "sbin").symlink_to("bin")
    shutil.copytree("/usr/lib/ocf", root / "usr/lib/ocf", symlinks=True)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    tarball = work / "rootfs.tar"
    with tarfile.open(tarball, "w") as tar:
        tar.add(root, arcname=".")
    engine.import_image(str(tarball), reference, cmd=["/bin/sh"])


@dataclass
class BundleCluster(NsCluster):
    image: str = ""
    conf: str = ""

    def engine_command(self) -> str:
        # the daemons run under `ip netns exec`, whose remounted /sys hides the cgroup tree
        # runc needs: their podman runs in this process's mount namespace
        return f"nsenter --mount=/proc/{os.getpid()}/ns/mnt -- podman"

    def daemon_args(self, node: str) -> list[str]:
        return ["--container-engine", self.engine_command(), "--netns", self.ns(node)]

    def config(self) -> str:
        return (
            f"{self._head()}"
            f'<bundle id="{BUNDLE}"><podman image="{self.image}" replicas="3" network="host" '
            'run-command="/bin/sleep 1000000"/><network control-port="3125"/>'
            '<primitive id="dummy" class="ocf" provider="heartbeat" type="Dummy"><operations>'
            '<op id="dummy-m" name="monitor" interval="2s" timeout="20s"/>'
            "</operations></primitive></bundle>"
            "</resources><constraints/></configuration><status/></cib>"
        )


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ContainerEngine:
    reason = missing()
    if reason is None and (shutil.which("podman") is None or shutil.which("runc") is None):
        reason = "podman and runc are not installed"
    if reason is None and not Path("/bin/busybox").is_file():
        reason = "busybox is not installed"
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (`make install` should provide it)")
        pytest.skip(reason)
    conf = tmp_path / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    monkeypatch.setenv("CONTAINERS_CONF", str(conf))  # the daemons inherit it
    return ContainerEngine("podman")


@pytest.fixture
def lab_ttl() -> float:
    return 2.0


@pytest.fixture
def lab(
    tmp_path: Path, engine: ContainerEngine, lab_ttl: float
) -> Iterator[tuple[BundleCluster, Coordinator]]:
    image = f"localhost/hakeeper-test-ocf:{uuid.uuid4().hex[:8]}"
    build_image(engine, tmp_path, image)
    cluster = BundleCluster(tmp_path, ttl=lab_ttl, fence_after=round(lab_ttl * 0.6, 2), image=image)
    coord = None
    try:
        coord = cluster.start()
        yield cluster, coord
    finally:
        try:
            for proc in cluster.daemons.values():  # no daemon starts one again
                proc.kill()
                proc.wait(10)
            for i in range(3):  # before their conmon dies with the node's processes
                engine.rm(f"{BUNDLE}-podman-{i}")
        finally:
            cluster.stop()
            engine.rmi(image)
            if coord is not None:
                coord.close()


def replicas(coord: Coordinator) -> dict[int, str]:
    """replica -> the member whose history says its container, connection and Dummy
    inside it run there, the Dummy's monitor answering ok."""
    members = coord.members().nodes
    docs = coord.read_status().documents
    found: dict[int, str] = {}

    def runs(node: str, name: str, record: str) -> bool:
        doc = docs.get(StatusKey(node, StatusKind.OP_HISTORY, name))
        last = (doc or {}).get("ops", {}).get(record, {})
        return bool(last.get("rc-code") == 0 and last.get("op-status") == 0)

    for i in range(3):
        for node in members:
            if (
                runs(node, f"{BUNDLE}-podman-{i}", f"{BUNDLE}-podman-{i}_last_0")
                and runs(node, f"{BUNDLE}-{i}", f"{BUNDLE}-{i}_last_0")
                and runs(node, f"dummy@{BUNDLE}-{i}", "dummy_last_0")
                and runs(node, f"dummy@{BUNDLE}-{i}", "dummy_monitor_2000")
            ):
                found[i] = node
    return found


def settled(coord: Coordinator) -> bool:
    leader = coord.leader()
    if leader is None:
        return False
    key = StatusKey(leader.node, StatusKind.ATTRIBUTES, machine.TRANSITION)
    graph = coord.read_status().documents.get(key)
    return graph is not None and graph["actions"] == [] and len(replicas(coord)) == 3


def dummy_state(engine: ContainerEngine, container: str) -> int | None:
    """The Dummy agent's own monitor, run inside the container."""
    out = engine.exec(
        container,
        ["/usr/lib/ocf/resource.d/heartbeat/Dummy", "monitor"],
        env={"OCF_ROOT": "/usr/lib/ocf", "OCF_RESOURCE_INSTANCE": "dummy"},
    )
    return out.code


def test_a_bundle_runs_on_every_node_and_a_killed_container_is_restarted(
    lab: tuple[BundleCluster, Coordinator], engine: ContainerEngine
) -> None:
    cluster, coord = lab
    began = time.monotonic()
    try:
        wait_for("every replica to run", lambda: settled(coord), 120)
    except AssertionError:
        print("\n".join(cluster.log(n)[-3000:] for n in NODES))
        raise
    print(f"bundle of 3 replicas converged {time.monotonic() - began:.1f} s after configuring")
    placed = replicas(coord)
    assert sorted(placed.values()) == sorted(NODES)  # one replica a node
    for i, node in placed.items():
        name = f"{BUNDLE}-podman-{i}"
        info = engine.inspect(name)
        assert info.state is State.RUNNING
        # in its node's network namespace: it sees the node's address
        out = engine.exec(name, ["ip", "-4", "-o", "addr", "show", "eth0"])
        assert cluster.addr(node) in out.stdout, out
        assert dummy_state(engine, name) == 0  # the agent's state is inside the container

    i, node = 0, placed[0]
    name = f"{BUNDLE}-podman-{i}"
    old = engine.inspect(name).pid
    assert old is not None
    killed = time.monotonic()
    os.kill(old, signal.SIGKILL)

    def restarted() -> bool:
        info = engine.inspect(name)
        return info.state is State.RUNNING and info.pid != old and dummy_state(engine, name) == 0

    wait_for("the killed container to run again with its Dummy", restarted, 120)
    print(f"killed container running again with its Dummy {time.monotonic() - killed:.2f} s later")
    wait_for("the cluster to settle again", lambda: settled(coord), 120)
    assert replicas(coord)[0] == node  # restarted where it was (no failure elsewhere)


@pytest.mark.parametrize("lab_ttl", [10.0])  # a daemon restart within the lease, even under load
def test_a_restarted_daemon_adopts_its_running_container_and_instance(
    lab: tuple[BundleCluster, Coordinator], engine: ContainerEngine
) -> None:
    cluster, coord = lab
    wait_for("every replica to run", lambda: settled(coord), 120)
    i, node = next(iter(sorted(replicas(coord).items())))
    name = f"{BUNDLE}-podman-{i}"
    pid = engine.inspect(name).pid
    daemon = cluster.daemons[node]
    daemon.kill()
    daemon.wait()
    cluster.start_daemon(node)
    wait_for(
        "the restarted daemon to adopt the replica",
        lambda: f"probe found dummy@{BUNDLE}-{i} running" in cluster.log(node),
        60,
    )
    wait_for("the cluster to settle again", lambda: settled(coord), 60)
    after = cluster.log(node).split("resumed the lease")
    assert len(after) == 2, "the daemon did not resume its lease"
    assert f"probe found {name} running" in after[1]
    assert f"probe found {BUNDLE}-{i} running" in after[1]
    assert engine.inspect(name).pid == pid  # the same container, not a new one
    for other in NODES:
        tail = cluster.log(other).split("resumed the lease")[-1]
        assert f"running start {name}" not in tail
        assert f"running start dummy@{BUNDLE}-{i}" not in tail
    assert replicas(coord)[i] == node
