"""enable-debug: debug=True in the service's config found through the container's mounts,
written atomically with a backup, and a restart that never goes behind Pacemaker's back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hakeeper.commands.debug import (
    DEBUG_BAD_ARGUMENT,
    DEBUG_CONFIG_NOT_FOUND,
    DebugEnv,
    EnableDebug,
    RestartMode,
    RestartOutcome,
    debug,
    set_debug,
)
from hakeeper.reports import CommandError

from .conftest import fixture_text
from .fakes import Call, FakeRunner, FakeTerminal

NOVA_CONF = "/tmp/hk-debug-capture/config-data/puppet-generated/nova/etc/nova/nova.conf"
GALERA_SRC = "/tmp/hk-debug-capture/config-data/puppet-generated/mysql"
NOW = 1_795_000_000.0  # 2026-11-18 11:06:40 UTC


def test_set_debug_after_the_commented_default() -> None:
    text = "[DEFAULT]\n#debug=false\ntransport_url=rabbit://x/\n\n[api]\ndebug=false\n"
    new, previous = set_debug(text)
    assert new == (
        "[DEFAULT]\n#debug=false\ndebug=True\ntransport_url=rabbit://x/\n\n[api]\ndebug=false\n"
    )
    assert previous is None


def test_set_debug_replaces_the_value_keeps_the_spacing() -> None:
    new, previous = set_debug("[DEFAULT]\nverbose = true\ndebug = False\n[db]\nx=1\n")
    assert new == "[DEFAULT]\nverbose = true\ndebug = True\n[db]\nx=1\n"
    assert previous == "debug = False"


def test_set_debug_already_on_is_unchanged() -> None:
    text = "[DEFAULT]\ndebug=true\n"
    assert set_debug(text) == (text, "debug=true")


def test_set_debug_without_default_section() -> None:
    new, _ = set_debug("[database]\nconnection=mysql://x\n")
    assert new == "[DEFAULT]\ndebug=True\n\n[database]\nconnection=mysql://x\n"
    assert set_debug("")[0] == "[DEFAULT]\ndebug=True\n"


def _inspect_call(name: str, fixture: str) -> Call:
    return Call(("podman", "inspect", "--type", "container", name), 0, fixture_text(fixture))


def _tree(root: Path, conf: str, text: str) -> Path:
    path = root / conf.lstrip("/")
    path.parent.mkdir(parents=True)
    path.write_text(text)
    path.chmod(0o640)
    return path


def _env(root: Path, runner: FakeRunner) -> DebugEnv:
    return DebugEnv(runner, FakeTerminal(), "controller-0", host_root=root, clock=lambda: NOW)


def test_plain_container_is_edited_and_restarted(tmp_path: Path) -> None:
    conf = _tree(tmp_path, NOVA_CONF, "[DEFAULT]\n#debug=false\n")
    runner = FakeRunner(
        [
            _inspect_call("nova_api", "podman-inspect-nova-api.json"),
            Call(("podman", "restart", "nova_api")),
        ]
    )
    dto = debug(_env(tmp_path, runner), "nova_api", EnableDebug("nova"))
    runner.assert_done()
    assert conf.read_text() == "[DEFAULT]\n#debug=false\ndebug=True\n"
    assert conf.stat().st_mode & 0o777 == 0o640
    assert dto.config is not None and dto.config.changed
    assert dto.config.path == NOVA_CONF
    backup = tmp_path / str(dto.config.backup).lstrip("/")
    assert backup.name == "nova.conf.hakeeper-20261118110640.bak"
    assert backup.read_text() == "[DEFAULT]\n#debug=false\n"
    assert dto.restart is not None and dto.restart.outcome is RestartOutcome.RESTARTED
    assert dto.exit_code == 0 and dto.bundle is None
    assert [p.name for p in conf.parent.iterdir() if p.name.startswith(".")] == []
    # A second run the same second keeps the first backup.
    conf.write_text("[DEFAULT]\ndebug=false\n")
    runner = FakeRunner(
        [
            _inspect_call("nova_api", "podman-inspect-nova-api.json"),
            Call(("podman", "restart", "nova_api")),
        ]
    )
    again = debug(_env(tmp_path, runner), "nova_api", EnableDebug("nova"))
    assert again.config is not None
    assert str(again.config.backup).endswith(".hakeeper-20261118110640-1.bak")
    assert backup.read_text() == "[DEFAULT]\n#debug=false\n"


def test_bundle_replica_is_left_to_the_cluster(tmp_path: Path) -> None:
    conf = _tree(tmp_path, f"{GALERA_SRC}/etc/mysql/mysql.conf", "[DEFAULT]\n")
    runner = FakeRunner(
        [
            Call(
                ("podman", "inspect", "--type", "container", "galera-bundle-0"),
                125,
                stderr="Error: no such container galera-bundle-0",
            ),
            _inspect_call("galera-bundle-podman-0", "podman-inspect-galera.json"),
        ]
    )
    dto = debug(_env(tmp_path, runner), "galera-bundle-0", EnableDebug("mysql"))
    runner.assert_done()  # no `podman restart`
    assert conf.read_text() == "[DEFAULT]\ndebug=True\n"
    assert dto.bundle == "galera-bundle" and dto.container == "galera-bundle-podman-0"
    assert dto.restart is not None
    assert dto.restart.outcome is RestartOutcome.LEFT_TO_CLUSTER
    assert dto.restart.command == ("pcs", "resource", "restart", "galera-bundle", "controller-0")
    assert dto.next_steps[0] == "pcs resource restart galera-bundle controller-0"
    assert json.loads(json.dumps(dto.as_dict()))["restart"]["outcome"] == "left-to-cluster"


def test_force_restarts_a_bundle_replica_through_the_engine(tmp_path: Path) -> None:
    _tree(tmp_path, f"{GALERA_SRC}/mysql.conf", "[DEFAULT]\ndebug=False\n")
    runner = FakeRunner(
        [
            _inspect_call("galera-bundle-podman-0", "podman-inspect-galera.json"),
            Call(("podman", "restart", "galera-bundle-podman-0"), 125, stderr="Error: boom"),
        ]
    )
    dto = debug(
        _env(tmp_path, runner), "galera-bundle-podman-0", EnableDebug("mysql", RestartMode.FORCE)
    )
    runner.assert_done()
    assert dto.restart is not None and dto.restart.outcome is RestartOutcome.FAILED
    assert dto.restart.reason == "Error: boom" and dto.exit_code == 1


def test_no_restart_and_already_on(tmp_path: Path) -> None:
    _tree(tmp_path, NOVA_CONF, "[DEFAULT]\ndebug=True\n")
    runner = FakeRunner([_inspect_call("nova_api", "podman-inspect-nova-api.json")])
    dto = debug(_env(tmp_path, runner), "nova_api", EnableDebug("nova"))
    assert dto.config is not None and not dto.config.changed and dto.config.backup is None
    assert dto.restart is not None and dto.restart.outcome is RestartOutcome.NOT_NEEDED
    runner = FakeRunner([_inspect_call("nova_api", "podman-inspect-nova-api.json")])
    dto = debug(_env(tmp_path, runner), "nova_api", EnableDebug("nova", RestartMode.NONE))
    assert dto.restart is not None and dto.restart.outcome is RestartOutcome.SKIPPED
    assert dto.restart.command == ("podman", "restart", "nova_api")


def test_standard_tripleo_path_when_no_mount_has_it(tmp_path: Path) -> None:
    conf = _tree(
        tmp_path,
        "/var/lib/config-data/puppet-generated/cinder/etc/cinder/cinder.conf",
        "[DEFAULT]\n",
    )
    runner = FakeRunner([_inspect_call("nova_api", "podman-inspect-nova-api.json")])
    debug(_env(tmp_path, runner), "nova_api", EnableDebug("cinder", RestartMode.NONE))
    assert "debug=True" in conf.read_text()


def test_no_config_found(tmp_path: Path) -> None:
    runner = FakeRunner([_inspect_call("nova_api", "podman-inspect-nova-api.json")])
    with pytest.raises(CommandError) as err:
        debug(_env(tmp_path, runner), "nova_api", EnableDebug("glance"))
    assert err.value.codes == [DEBUG_CONFIG_NOT_FOUND] and err.value.exit_code == 2
    report = err.value.reports[0]
    assert report.payload["service"] == "glance" and report.where and report.hint
    assert (
        f"{GALERA_SRC.replace('mysql', 'nova')}/etc/glance/glance.conf" in report.payload["tried"]
    )


@pytest.mark.parametrize("service", ["../etc/passwd", "", "nova conf"])
def test_bad_service_name(tmp_path: Path, service: str) -> None:
    with pytest.raises(CommandError) as err:
        debug(_env(tmp_path, FakeRunner([])), "nova_api", EnableDebug(service))
    assert err.value.codes == [DEBUG_BAD_ARGUMENT]
