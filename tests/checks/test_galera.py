"""Galera findings from real MariaDB/galera-4 outputs and the seeds' wsrep lines."""

from __future__ import annotations

import pytest

from hakeeper.checks import codes, galera
from hakeeper.checks.capture import Capture, CaptureStatus, ProbeOutputError
from hakeeper.checks.finding import Verdict
from hakeeper.checks.galera import Grastate, bootstrap_advice, parse_grastate, parse_wsrep_status

from .conftest import captures_of, fixture_text, ok_capture


@pytest.mark.parametrize(
    "name", ["galera/wsrep_synced_single.txt", "galera/wsrep_synced_single_table.txt"]
)
def test_real_status_both_layouts(name: str) -> None:
    status = parse_wsrep_status(fixture_text(name))
    assert status.get("wsrep_local_state_comment") == "Synced"
    assert status.get("wsrep_evs_state") == "OPERATIONAL"
    assert status.get("wsrep_cluster_status") == "Primary"
    assert status.get("wsrep_cluster_size") == "1"


def test_single_node_of_three_is_a_size_warning() -> None:
    status = parse_wsrep_status(fixture_text("galera/wsrep_synced_single.txt"))
    (f,) = galera.assess_status(status, node="controller-0", expected=3)
    assert (f.verdict, f.code, f.subject) == (
        Verdict.WARNING,
        codes.GALERA_CLUSTER_SIZE,
        "controller-0",
    )
    assert any("wsrep_cluster_size" in line for line in f.evidence)


def test_single_node_of_one_is_ok() -> None:
    status = parse_wsrep_status(fixture_text("galera/wsrep_synced_single.txt"))
    (f,) = galera.assess_status(status, node="ctl0", expected=1)
    assert (f.verdict, f.code) == (Verdict.OK, codes.GALERA_OK)


def test_seed_grep_lines_are_enough_for_ok() -> None:
    status = parse_wsrep_status(fixture_text("seeds/galera_wsrep_grep.txt"))
    (f,) = galera.assess_status(status, node="controller01", expected=3)
    assert (f.verdict, f.code) == (Verdict.OK, codes.GALERA_OK)


@pytest.mark.parametrize(
    ("old", "new", "code", "verdict"),
    [
        (
            "wsrep_cluster_status\tPrimary",
            "wsrep_cluster_status\tnon-Primary",
            codes.GALERA_NOT_PRIMARY,
            Verdict.CRITICAL,
        ),
        (
            "wsrep_local_state_comment\tSynced",
            "wsrep_local_state_comment\tDonor/Desynced",
            codes.GALERA_NOT_SYNCED,
            Verdict.WARNING,
        ),
        (
            "wsrep_local_state_comment\tSynced",
            "wsrep_local_state_comment\tInitialized",
            codes.GALERA_NOT_SYNCED,
            Verdict.CRITICAL,
        ),
        (
            "wsrep_evs_state\tOPERATIONAL",
            "wsrep_evs_state\tGATHER",
            codes.GALERA_EVS_NOT_OPERATIONAL,
            Verdict.CRITICAL,
        ),
        ("wsrep_ready\tON", "wsrep_ready\tOFF", codes.GALERA_NOT_READY, Verdict.CRITICAL),
    ],
)
def test_bad_states(old: str, new: str, code: str, verdict: Verdict) -> None:
    text = fixture_text("galera/wsrep_synced_single.txt")
    assert old in text
    found = galera.assess_status(parse_wsrep_status(text.replace(old, new)), node="n", expected=1)
    assert [(f.code, f.verdict) for f in found] == [(code, verdict)]


def test_server_down_is_critical_not_ready() -> None:
    failed = Capture(
        galera.STATUS_KEY,
        "controller-1",
        "podman exec ... mysql",
        CaptureStatus.FAILED,
        reason=fixture_text("galera/mysql_down.err").strip(),
    )
    (f,) = galera.assess(captures_of(failed), expected=3)
    assert (f.verdict, f.code, f.node) == (Verdict.CRITICAL, codes.GALERA_NOT_READY, "controller-1")


def test_captured_client_error_text_is_not_ready() -> None:
    capture = ok_capture(galera.STATUS_KEY, "c1", fixture_text("galera/mysql_down.err"))
    (f,) = galera.assess(captures_of(capture))
    assert f.code == codes.GALERA_NOT_READY


def test_real_grastate_files() -> None:
    clean = parse_grastate(fixture_text("galera/grastate_clean_shutdown.dat"), "a")
    crashed = parse_grastate(fixture_text("galera/grastate_crashed.dat"), "b")
    assert (clean.seqno, clean.safe_to_bootstrap) == (3, True)
    assert crashed.seqno == -1
    assert clean.uuid == crashed.uuid == "f050ef03-e60f-11f1-a4ec-1bff752461c4"


UUID = "f050ef03-e60f-11f1-a4ec-1bff752461c4"


def test_bootstrap_from_safe_to_bootstrap_node() -> None:
    advice = bootstrap_advice(
        [
            Grastate("c0", UUID, 10, False),
            Grastate("c1", UUID, 12, True),
            Grastate("c2", UUID, 11, False),
        ],
        pacemaker=True,
    )
    assert advice is not None
    assert (advice.code, advice.subject) == (codes.GALERA_BOOTSTRAP_FROM, "c1")
    assert advice.next_steps == ("pcs resource cleanup galera-bundle",)


def test_bootstrap_from_highest_seqno_sets_safe_flag_first() -> None:
    advice = bootstrap_advice(
        [
            Grastate("c0", UUID, 10, False),
            Grastate("c1", UUID, -1, False),
            Grastate("c2", UUID, 42, False),
        ],
        pacemaker=False,
    )
    assert advice is not None
    assert (advice.code, advice.subject, advice.verdict) == (
        codes.GALERA_BOOTSTRAP_FROM,
        "c2",
        Verdict.CRITICAL,
    )
    assert "safe_to_bootstrap: 1" in advice.next_steps[0] and "c2" in advice.next_steps[0]
    assert advice.next_steps[-1] == "ssh c2 galera_new_cluster"


def test_all_crashed_needs_recovery() -> None:
    advice = bootstrap_advice(
        [Grastate("c0", UUID, -1, False), Grastate("c1", UUID, -1, False)], pacemaker=True
    )
    assert advice is not None and advice.code == codes.GALERA_RECOVER_POSITION
    assert len(advice.next_steps) == 2


def test_different_histories_refuse_to_choose() -> None:
    advice = bootstrap_advice(
        [
            Grastate("c0", UUID, 5, False),
            Grastate("c1", "0d8a6c2e-1111-11f1-8000-000000000000", 9, False),
        ],
        pacemaker=True,
    )
    assert advice is not None and advice.code == codes.GALERA_UUID_MISMATCH


def test_full_outage_from_captures_names_the_node() -> None:
    down = fixture_text("galera/mysql_down.err").strip()
    caps = [
        Capture(galera.STATUS_KEY, n, "mysql", CaptureStatus.FAILED, reason=down)
        for n in ("c0", "c1")
    ]
    caps.append(
        ok_capture(
            galera.GRASTATE_KEY,
            "c0",
            fixture_text("galera/grastate_crashed.dat").replace(
                "safe_to_bootstrap: 1", "safe_to_bootstrap: 0"
            ),
        )
    )
    caps.append(
        ok_capture(galera.GRASTATE_KEY, "c1", fixture_text("galera/grastate_clean_shutdown.dat"))
    )
    found = galera.assess(captures_of(*caps), expected=2, pacemaker=True)
    advice = [f for f in found if f.code == codes.GALERA_BOOTSTRAP_FROM]
    assert [(f.subject, f.node) for f in advice] == [("c1", "c1")]


def test_no_bootstrap_advice_while_a_node_is_primary() -> None:
    caps = [
        ok_capture(galera.STATUS_KEY, "c0", fixture_text("galera/wsrep_synced_single.txt")),
        ok_capture(galera.GRASTATE_KEY, "c0", fixture_text("galera/grastate_crashed.dat")),
    ]
    found = galera.assess(captures_of(*caps), expected=1)
    assert [f.code for f in found] == [codes.GALERA_OK]


@pytest.mark.parametrize("text", ["", "Variable_name\tValue\n", "hello world", "| foo | bar |"])
def test_broken_status(text: str) -> None:
    with pytest.raises(ProbeOutputError):
        parse_wsrep_status(text)
    (f,) = galera.assess(captures_of(ok_capture(galera.STATUS_KEY, "c0", text)))
    assert (f.verdict, f.code) == (Verdict.CRITICAL, codes.PROBE_UNPARSEABLE)


@pytest.mark.parametrize(
    "text", ["", "# GALERA saved state\nversion: 2.1\n", "uuid: x\nseqno: many\n"]
)
def test_broken_grastate(text: str) -> None:
    with pytest.raises(ProbeOutputError):
        parse_grastate(text, "c0")
