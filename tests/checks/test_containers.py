"""Container findings from real `podman ps --all --format json` and the seeds' `docker ps`."""

from __future__ import annotations

import pytest

from hakeeper.checks import codes, containers
from hakeeper.checks.capture import ProbeOutputError
from hakeeper.checks.containers import Health, parse_ps
from hakeeper.checks.finding import Verdict

from .conftest import captures_of, fixture_text, ok_capture


def by_code(text: str, engine: str = "podman") -> dict[str, set[tuple[Verdict, str]]]:
    out: dict[str, set[tuple[Verdict, str]]] = {}
    for f in containers.assess_containers(parse_ps(text), engine=engine, node="ctl0"):
        out.setdefault(f.code, set()).add((f.verdict, f.subject))
    return out


def test_podman_json_unhealthy_and_exited() -> None:
    found = by_code(fixture_text("podman/ps_all.json"))
    assert found == {
        codes.CONTAINER_UNHEALTHY: {(Verdict.CRITICAL, "redis-bundle-podman-0")},
        codes.CONTAINER_EXITED: {(Verdict.CRITICAL, "haproxy-bundle-podman-0")},
    }


def test_exit_of_a_container_outside_pacemaker_is_a_warning() -> None:
    text = fixture_text("podman/ps_all.json").replace("haproxy-bundle-podman-0", "keystone_init")
    assert by_code(text)[codes.CONTAINER_EXITED] == {(Verdict.WARNING, "keystone_init")}


def test_podman_json_fields() -> None:
    by_name = {c.name: c for c in parse_ps(fixture_text("podman/ps_all.json"))}
    assert by_name["rabbitmq-bundle-podman-0"].health is Health.HEALTHY
    assert by_name["haproxy-bundle-podman-0"].exit_code == 3
    assert by_name["galera-bundle-podman-0"].state == "running"


def test_unhealthy_next_steps_name_the_container_and_bundle() -> None:
    (f, *_) = containers.assess_containers(
        parse_ps(fixture_text("podman/ps_all.json")), engine="podman", node="ctl0"
    )
    assert f.code == codes.CONTAINER_UNHEALTHY
    assert "podman logs --tail 100 redis-bundle-podman-0" in f.next_steps
    assert "pcs resource cleanup redis-bundle" in f.next_steps
    assert f.node == "ctl0"


def test_seed_docker_ps_table_lists_four_unhealthy() -> None:
    found = by_code(fixture_text("seeds/docker_ps_unhealthy.txt"), engine="docker")
    assert found == {
        codes.CONTAINER_UNHEALTHY: {
            (Verdict.CRITICAL, name)
            for name in ("nova_scheduler", "nova_conductor", "cinder_scheduler", "heat_engine")
        }
    }


def test_docker_json_lines_restarting_and_clean_exit() -> None:
    found = by_code(fixture_text("constructed/docker_ps.jsonl"), engine="docker")
    assert found == {
        codes.CONTAINER_UNHEALTHY: {(Verdict.CRITICAL, "nova_scheduler")},
        codes.CONTAINER_RESTARTING: {(Verdict.CRITICAL, "rabbitmq-bundle-docker-0")},
    }


def test_all_running_is_one_ok() -> None:
    text = fixture_text("podman/ps_all.json").replace("(unhealthy)", "(healthy)")
    text = text.replace('"State": "exited"', '"State": "running"')
    (f,) = containers.assess_containers(parse_ps(text), engine="podman", node=None)
    assert (f.verdict, f.code) == (Verdict.OK, codes.CONTAINERS_OK)


def test_empty_list_is_ok() -> None:
    (f,) = containers.assess_containers(parse_ps("[]"), engine="podman", node=None)
    assert f.verdict is Verdict.OK


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[{",
        fixture_text("podman/ps_all.json")[:700],
        '{"not": "a container"}',
        "Error: something odd happened",
        "[1, 2]",
    ],
)
def test_broken_ps_output(text: str) -> None:
    with pytest.raises(ProbeOutputError):
        parse_ps(text)
    (f,) = containers.assess(captures_of(ok_capture(containers.PODMAN_KEY, "ctl0", text)))
    assert (f.verdict, f.code, f.node) == (Verdict.CRITICAL, codes.PROBE_UNPARSEABLE, "ctl0")


def test_bundle_of() -> None:
    assert containers.bundle_of("galera-bundle-podman-0") == "galera-bundle"
    assert containers.bundle_of("rabbitmq-bundle-docker-2") == "rabbitmq-bundle"
    assert containers.bundle_of("nova_api") is None
