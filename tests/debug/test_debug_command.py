"""`resource debug` end to end through the runner and terminal seams, bad input codes,
and the CLI's exit codes and output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hakeeper.cli.main import main
from hakeeper.commands import debug as debug_cmd
from hakeeper.commands.debug import (
    DEBUG_BAD_ARGUMENT,
    DEBUG_ENGINE_FAILED,
    DEBUG_ENGINE_MISSING,
    DEBUG_REPLICA_NOT_FOUND,
    DebugEnv,
    Exec,
    Export,
    Inspect,
    Logs,
    PrintCmd,
    debug,
)
from hakeeper.reports import CommandError

from .conftest import fixture_text
from .fakes import Call, FakeRunner, FakeTerminal, missing

GALERA_INSPECT = fixture_text("podman-inspect-galera.json")
NOT_THERE = "Error: no such container"


def _inspect(engine: str, name: str, rc: int = 0, out: str = "") -> Call:
    return Call(
        (engine, "inspect", "--type", "container", name), rc, out, "" if rc == 0 else NOT_THERE
    )


def _galera_found(engine: str = "podman") -> list[Call]:
    return [
        _inspect(engine, "galera-bundle-0", 125),
        _inspect(engine, f"galera-bundle-{engine}-0", 0, GALERA_INSPECT),
    ]


def _env(runner: FakeRunner, terminal: FakeTerminal | None = None) -> DebugEnv:
    return DebugEnv(runner, terminal or FakeTerminal(), "controller-0")


def test_print_cmd_uses_the_image_and_keeps_podmans_record() -> None:
    image_id = json.loads(GALERA_INSPECT)[0]["Image"]
    runner = FakeRunner(
        [
            *_galera_found(),
            Call(("podman", "image", "inspect", image_id), 0, '[{"Config": {"Cmd": ["/bin/sh"]}}]'),
        ]
    )
    dto = debug(_env(runner), "galera-bundle-0", PrintCmd())
    runner.assert_done()
    assert dto.command[:2] == ("podman", "run") and "--init" in dto.command
    assert dto.create_command[:2] == ("podman", "run")
    assert dto.bundle == "galera-bundle" and dto.engine == "podman"


def test_docker_host_is_detected() -> None:
    runner = FakeRunner(
        [
            missing("podman", "inspect", "--type", "container", "galera-bundle-0"),
            *_galera_found("docker"),
        ]
    )
    dto = debug(_env(runner), "galera-bundle-0", Inspect())
    runner.assert_done()
    assert dto.engine == "docker" and dto.container == "galera-bundle-podman-0"
    assert json.loads(dto.output)[0]["Name"] == "galera-bundle-podman-0"


def test_exec_runs_on_the_terminal_as_an_argv() -> None:
    want = (
        "podman",
        "exec",
        "--interactive",
        "--tty",
        "galera-bundle-podman-0",
        "mysql",
        "-e",
        "SHOW STATUS; select 1",
    )
    terminal = FakeTerminal([(want, 3)])
    dto = debug(
        _env(FakeRunner(_galera_found()), terminal),
        "galera-bundle-0",
        Exec(("mysql", "-e", "SHOW STATUS; select 1"), tty=True),
    )
    terminal.assert_done()
    assert dto.exit_code == 3 and dto.command == want
    shell = ("podman", "exec", "--interactive", "galera-bundle-podman-0", "/bin/sh")
    terminal = FakeTerminal([(shell, 0)])
    debug(_env(FakeRunner(_galera_found()), terminal), "galera-bundle-0", Exec())
    terminal.assert_done()


def test_logs_and_export() -> None:
    logs = ("podman", "logs", "--tail", "20", "--since", "10m", "galera-bundle-podman-0")
    runner = FakeRunner([*_galera_found(), Call(logs, 0, "out\n", "err\n")])
    dto = debug(_env(runner), "galera-bundle-0", Logs(20, "10m"))
    assert dto.output == "out\nerr\n" and dto.command == logs
    runner = FakeRunner(
        [
            *_galera_found(),
            Call(
                ("podman", "logs", "galera-bundle-podman-0"),
                125,
                stderr="Error: container state improper",
            ),
        ]
    )
    with pytest.raises(CommandError) as err:
        debug(_env(runner), "galera-bundle-0", Logs(None))
    assert err.value.codes == [DEBUG_ENGINE_FAILED]
    assert err.value.reports[0].payload["reason"] == "Error: container state improper"


def test_export_to_a_tar(tmp_path: Path) -> None:
    out = tmp_path / "galera.tar"
    argv = ("podman", "export", "--output", str(out), "galera-bundle-podman-0")
    runner = FakeRunner([*_galera_found(), Call(argv)])
    dto = debug(_env(runner), "galera-bundle-0", Export(out))
    runner.assert_done()
    assert dto.path == str(out) and dto.command == argv


@pytest.mark.parametrize("out", ["nodir/x.tar", "."])
def test_export_bad_output(tmp_path: Path, out: str) -> None:
    with pytest.raises(CommandError) as err:
        debug(_env(FakeRunner([])), "galera-bundle-0", Export(tmp_path / out))
    assert err.value.codes == [DEBUG_BAD_ARGUMENT] and err.value.reports[0].where == "OUT"


def test_unknown_replica() -> None:
    runner = FakeRunner(
        [
            _inspect(e, n, 125)
            for e in ("podman", "docker")
            for n in (
                "redis-bundle-7",
                f"redis-bundle-{e}-7",
                f"redis-bundle-{'docker' if e == 'podman' else 'podman'}-7",
            )
        ],
        ordered=False,
    )
    with pytest.raises(CommandError) as err:
        debug(_env(runner), "redis-bundle-7", Inspect())
    runner.assert_done()
    report = err.value.reports[0]
    assert (report.code, report.where, report.payload["host"]) == (
        DEBUG_REPLICA_NOT_FOUND,
        "redis-bundle-7",
        "controller-0",
    )
    assert report.payload["names"] == [
        "redis-bundle-7",
        "redis-bundle-podman-7",
        "redis-bundle-docker-7",
    ]


def test_no_engine() -> None:
    runner = FakeRunner(
        [
            missing("podman", "inspect", "--type", "container", "nova_api"),
            missing("docker", "inspect", "--type", "container", "nova_api"),
        ]
    )
    with pytest.raises(CommandError) as err:
        debug(_env(runner), "nova_api", Inspect())
    assert err.value.codes == [DEBUG_ENGINE_MISSING] and err.value.exit_code == 2


@pytest.mark.parametrize(
    "call",
    [
        Call(("podman", "inspect", "--type", "container", "nova_api"), None, timed_out=True),
        Call(("podman", "inspect", "--type", "container", "nova_api"), 0, "[{trunc"),
    ],
)
def test_engine_broken(call: Call) -> None:
    with pytest.raises(CommandError) as err:
        debug(_env(FakeRunner([call])), "nova_api", Inspect())
    assert err.value.codes == [DEBUG_ENGINE_FAILED]


def test_cli_bad_input_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = FakeRunner(
        [
            missing("podman", "inspect", "--type", "container", "x"),
            missing("docker", "inspect", "--type", "container", "x"),
        ]
    )
    monkeypatch.setattr(debug_cmd.DebugEnv, "from_os", classmethod(lambda cls: _env(runner)))
    assert main(["resource", "debug", "x", "logs"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hakeeper resource: x: error: neither podman nor docker")
    assert "hint:" in err and "Traceback" not in err


def test_cli_exec_passes_the_exit_status_and_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = FakeTerminal(
        [(("podman", "exec", "--interactive", "galera-bundle-podman-0", "false"), 1)]
    )
    monkeypatch.setattr(
        debug_cmd.DebugEnv,
        "from_os",
        classmethod(lambda cls: _env(FakeRunner(_galera_found()), terminal)),
    )
    assert (
        main(["resource", "debug", "galera-bundle-0", "exec", "--output", "json", "--", "false"])
        == 1
    )
    out = json.loads(capsys.readouterr().out)
    assert out["exit_code"] == 1 and out["command"][-1] == "false"


def test_cli_print_cmd_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    image_id = json.loads(GALERA_INSPECT)[0]["Image"]
    runner = FakeRunner([*_galera_found(), Call(("podman", "image", "inspect", image_id), 125)])
    monkeypatch.setattr(debug_cmd.DebugEnv, "from_os", classmethod(lambda cls: _env(runner)))
    assert main(["resource", "debug", "galera-bundle-0", "print-cmd"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "# podman container galera-bundle-podman-0 (replica of galera-bundle)"
    assert lines[1].startswith("podman run --detach --name=galera-bundle-podman-0 ")
    assert lines[2] == "# as podman recorded it at creation:"


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("podman") is None, reason="podman is not installed")
def test_real_podman_print_cmd_starts_an_equivalent_container(tmp_path: Path) -> None:
    """print-cmd's output, run with a new name, gives the same inspect settings."""
    import os
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("needs root for podman here")
    conf = Path("/work/shared/examples/podman/containers.conf")
    env = dict(os.environ, CONTAINERS_CONF=str(conf)) if conf.exists() else dict(os.environ)
    rootfs = tmp_path / "rootfs"
    for d in ("bin", "etc", "proc", "sys", "dev", "tmp"):
        (rootfs / d).mkdir(parents=True)
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox is not installed")
    shutil.copy(busybox, rootfs / "bin/busybox")
    for a in ("sh", "sleep"):
        (rootfs / "bin" / a).symlink_to("busybox")
    (rootfs / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (rootfs / "etc/group").write_text("root:x:0:\n")
    subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tmp_path / "r.tar"), "."], check=True)
    image = "localhost/hk-debug-test:1"
    names = ("hk-debug-test-a", "hk-debug-test-b")

    def podman(*args: str) -> str:
        return subprocess.run(
            ["podman", *args], env=env, check=True, capture_output=True, text=True
        ).stdout

    podman("import", str(tmp_path / "r.tar"), image)
    (tmp_path / "data").mkdir()
    try:
        podman(
            "run",
            "-d",
            "--name",
            names[0],
            "--network",
            "host",
            "--init",
            "--user",
            "root",
            "-e",
            "A=b c",
            "-v",
            f"{tmp_path}/data:/data:ro",
            image,
            "/bin/sh",
            "-c",
            "sleep 600",
        )
        monkey = pytest.MonkeyPatch()
        monkey.setenv("CONTAINERS_CONF", env.get("CONTAINERS_CONF", ""))
        dto = debug(DebugEnv.from_os(), names[0], PrintCmd())
        monkey.undo()
        argv = [a.replace(names[0], names[1]) for a in dto.command]
        subprocess.run(argv, env=env, check=True, capture_output=True)
        a, b = (json.loads(podman("inspect", n))[0] for n in names)
        for key in ("NetworkMode", "Init"):
            assert a["HostConfig"][key] == b["HostConfig"][key], key
        assert a["Config"]["User"] == b["Config"]["User"]
        assert a["Config"]["Cmd"] == b["Config"]["Cmd"]
        assert "A=b c" in b["Config"]["Env"]
        assert [(m["Source"], m["Destination"], m["RW"]) for m in a["Mounts"]] == [
            (m["Source"], m["Destination"], m["RW"]) for m in b["Mounts"]
        ]
    finally:
        subprocess.run(
            ["podman", "rm", "--force", "--ignore", *names], env=env, capture_output=True
        )
        subprocess.run(["podman", "rmi", image], env=env, capture_output=True)
