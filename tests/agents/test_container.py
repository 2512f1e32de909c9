"""Real podman (runc): a busybox image imported from a rootfs, a bundle replica joined to a
node's namespace, exec, the inner OCF agent run through exec, stop and remove."""

from __future__ import annotations

import os
import shutil
import signal
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hakeeper.agents import LocalAgentRunner, OcfRc, OpRequest, OpStatus
from hakeeper.agents.bundle import ContainerAgent, replica_spec
from hakeeper.agents.container import ContainerEngine, ContainerError, State
from hakeeper.agents.process import Exit
from hakeeper.model.config import Agent, Bundle

from .conftest import Lan, need

pytestmark = pytest.mark.integration

# What works on these machines (DESIGN.md): runc, explicit ulimits, no default network.
CONTAINERS_CONF = """[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""

# An OCF agent inside the image: nothing of it exists on the host.
MARKER_AGENT = """#!/bin/sh
state=/tmp/marker-$OCF_RESOURCE_INSTANCE
case $1 in
  start) echo "$OCF_RESKEY_payload" > "$state" ;;
  stop) rm -f "$state" ;;
  monitor) [ -f "$state" ] || exit 7 ;;
  meta-data) echo '<resource-agent name="Marker"/>' ;;
  *) exit 3 ;;
esac
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ContainerEngine, str]]:
    need(
        shutil.which("podman") is not None and shutil.which("runc") is not None,
        "podman and runc are not installed",
    )
    need(Path("/bin/busybox").is_file(), "busybox-static is not installed")
    work = tmp_path_factory.mktemp("podman")
    conf = work / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    engine = ContainerEngine(
        "podman", env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CONTAINERS_CONF": str(conf)}
    )
    image = f"localhost/hakeeper-test-busybox:{uuid.uuid4().hex[:8]}"
    engine.import_image(str(_rootfs_tarball(work)), image, cmd=["/bin/sh"])
    try:
        yield engine, image
    finally:
        engine.rmi(image)


def _rootfs_tarball(work: Path) -> Path:
    root = work / "rootfs"
    for sub in ("bin", "etc", "proc", "sys", "dev", "tmp", "root", "usr/lib/ocf/resource.d/test"):
        (root / sub).mkdir(parents=True)
    shutil.copy("/bin/busybox", root / "bin" / "busybox")
    for applet in ("sh", "sleep", "cat", "echo", "rm", "ip", "env", "ls", "id"):
        (root / "bin" / applet).symlink_to("busybox")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    agent = root / "usr/lib/ocf/resource.d/test/Marker"
    agent.write_text(MARKER_AGENT)
    agent.chmod(0o755)
    tarball = work / "rootfs.tar"
    with tarfile.open(tarball, "w") as tar:
        tar.add(root, arcname=".")
    return tarball


def test_replica_lifecycle(engine: tuple[ContainerEngine, str], lan: Lan, tmp_path: Path) -> None:
    podman, image = engine
    bundle = Bundle(
        id=f"hkt{uuid.uuid4().hex[:6]}-bundle",
        engine="podman",
        engine_attrs=(("image", image), ("network", "host"), ("run-command", "sleep 3600")),
        storage=((("source-dir-root", str(tmp_path)), ("target-dir", "/data"), ("options", "rw")),),
    )
    spec = replica_spec(bundle, 0, netns=lan.names[0])
    assert spec.name == f"{bundle.id}-podman-0"
    agent = ContainerAgent(podman, stop_grace=5)
    try:
        assert agent.monitor(spec.name).rc == OcfRc.NOT_RUNNING
        started = agent.start(spec)
        assert started.rc == OcfRc.OK, started
        assert agent.start(spec).rc == OcfRc.OK  # running already: adopted
        info = podman.inspect(spec.name)
        assert info.state is State.RUNNING and info.pid
        assert info.labels["hakeeper.bundle"] == bundle.id

        # exec: argv, environment, the node's network, the per-replica storage
        out = podman.exec(
            spec.name,
            ["sh", "-c", "echo $GREETING; ip -4 -o addr show eth0; echo hi > /data/f"],
            env={"GREETING": "a b $(x)"},
        )
        assert (out.exit, out.code) == (Exit.EXITED, 0), out
        assert out.stdout.splitlines()[0] == "a b $(x)"
        assert lan.addr(0) in out.stdout
        assert (tmp_path / f"{bundle.id}-0" / "f").read_text() == "hi\n"
        assert podman.exec(spec.name, ["sleep", "30"], timeout=0.5).exit is Exit.TIMEOUT
        assert podman.exec(spec.name, ["/nonexistent"]).exit is Exit.NOT_FOUND

        # the inner OCF agent runs inside the container through exec
        runner = LocalAgentRunner(engine=podman)
        marker = Agent("ocf", "test", "Marker")

        def inner(action: str) -> int:
            result = runner.run(
                OpRequest(
                    "m:0", action, "ctl0", marker, params={"payload": "x"}, container=spec.name
                )
            )
            assert result.status is OpStatus.DONE, result
            return result.rc

        assert [inner(a) for a in ("monitor", "start", "monitor", "stop", "monitor")] == [
            OcfRc.NOT_RUNNING,
            OcfRc.OK,
            OcfRc.OK,
            OcfRc.OK,
            OcfRc.NOT_RUNNING,
        ]
        missing = runner.run(
            OpRequest("m:0", "start", "ctl0", Agent("ocf", "test", "Nope"), container=spec.name)
        )
        assert missing.status is OpStatus.NOT_INSTALLED

        # its container stopped under it (a node's boot, a crash): the engine cannot exec,
        # so the instance is not running and its stop has nothing to do, not a failed stop
        assert inner("start") == OcfRc.OK
        podman.stop(spec.name, grace=1)
        assert podman.inspect(spec.name).state is State.STOPPED
        refused = podman.exec(spec.name, ["true"])
        assert refused.exit is Exit.NOT_EXECUTABLE, refused
        assert f"container {spec.name} is not running" in refused.stderr
        assert [inner(a) for a in ("stop", "monitor", "demote")] == [
            OcfRc.OK,
            OcfRc.NOT_RUNNING,
            OcfRc.OK,
        ]
        start = runner.run(OpRequest("m:0", "start", "ctl0", marker, container=spec.name))
        assert start.rc != OcfRc.OK and "is not running" in (start.exit_reason or ""), start
        # a command's own exit code 255 is its answer, not the engine's refusal
        podman._ok(["start", spec.name], "start")
        own = podman.exec(spec.name, ["sh", "-c", "echo redis is not running >&2; exit 255"])
        assert (own.exit, own.code) == (Exit.EXITED, 255), own
        # its conmon and then its processes killed (a power cut the engine's state outlives;
        # conmon first, or it reaps the container and tells podman):
        # the engine still says running, runc refuses the exec; not the agent's answer
        pids = podman._call(
            ["inspect", "--format", "{{.State.ConmonPid}} {{.State.Pid}}", spec.name]
        )
        for pid in map(int, pids.stdout.split()):
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        assert podman.inspect(spec.name).state is State.RUNNING  # what makes this case
        refused = podman.exec(spec.name, ["true"])
        assert refused.exit is Exit.NOT_EXECUTABLE, refused
        assert "cannot exec in a stopped container" in refused.stderr

        assert agent.stop(spec.name).rc == OcfRc.OK
        assert podman.inspect(spec.name).state is State.ABSENT
        assert agent.monitor(spec.name).rc == OcfRc.NOT_RUNNING
        assert agent.stop(spec.name).rc == OcfRc.OK  # absent: stop succeeds
    finally:
        podman.rm(spec.name)


def test_engine_errors_are_container_errors(engine: tuple[ContainerEngine, str]) -> None:
    podman, _ = engine
    with pytest.raises(ContainerError):
        podman.run(
            replica_spec(
                Bundle(
                    id="hkt-noimage", engine="podman", engine_attrs=(("image", "localhost/nope:0"),)
                ),
                0,
            )
        )
    with pytest.raises(ContainerError, match="cannot run"):
        ContainerEngine("/nonexistent/podman").inspect("x")


def test_a_replica_whose_storage_was_lost_is_stopped_and_started_anew(
    tmp_path: Path,
) -> None:
    """A power cut between the two updates of a create or a remove leaves podman's database
    with a container its storage does not know ("container not known"). It is not running:
    the probe says so, stop succeeds, start clears it and runs a new one."""
    need(
        shutil.which("podman") is not None and shutil.which("runc") is not None,
        "podman and runc are not installed",
    )
    need(Path("/bin/busybox").is_file(), "busybox-static is not installed")
    conf = tmp_path / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    graph = tmp_path / "graph"
    runroot = tempfile.mkdtemp(prefix="hkt-run-", dir="/tmp")  # podman: 50 characters at most
    podman = ContainerEngine(
        "podman",
        global_args=("--root", str(graph), "--runroot", runroot),
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CONTAINERS_CONF": str(conf)},
    )
    image = "localhost/hakeeper-test-busybox:lost"
    podman.import_image(str(_rootfs_tarball(tmp_path)), image, cmd=["/bin/sh"])
    bundle = Bundle(
        id=f"hkt{uuid.uuid4().hex[:6]}-bundle",
        engine="podman",
        engine_attrs=(("image", image), ("network", "none"), ("run-command", "sleep 3600")),
    )
    spec = replica_spec(bundle, 0)
    agent = ContainerAgent(podman, stop_grace=1)
    try:
        assert agent.start(spec).rc == OcfRc.OK
        assert agent.stop(spec.name).rc == OcfRc.OK
        assert podman.inspect(spec.name).state is State.ABSENT
        podman._ok(["create", "--name", spec.name, image, "sleep", "3600"], "create")
        # the storage forgets it, the database keeps it
        records = graph / "overlay-containers" / "containers.json"
        assert spec.name in records.read_text()
        records.write_text("[]")
        assert "container not known" in podman._call(["container", "inspect", spec.name]).stderr

        info = podman.inspect(spec.name)
        assert (info.state, info.status) == (State.STOPPED, "storage-lost")
        assert agent.monitor(spec.name).rc == OcfRc.NOT_RUNNING
        assert agent.stop(spec.name).rc == OcfRc.OK
        podman._ok(["create", "--name", spec.name, image, "sleep", "3600"], "create")
        records.write_text("[]")
        started = agent.start(spec)
        assert started.rc == OcfRc.OK, started
        assert podman.inspect(spec.name).state is State.RUNNING
    finally:
        podman.rm(spec.name)
        podman.rmi(image)
        shutil.rmtree(runroot, ignore_errors=True)
