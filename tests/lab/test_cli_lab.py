"""`hakeeper lab` on bad input: one message, the code, exit 2, nothing made."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from hakeeper.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() != 0, reason="the lab's commands need root first")
def test_status_and_down_without_a_lab(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "lab", "--dir", str(tmp_path), "status")
    assert code == 2 and f"no lab is up in {tmp_path}" in err and "hint: hakeeper lab up" in err
    code, err = run(capsys, "lab", "--dir", str(tmp_path), "down")
    assert code == 2 and "no lab is recorded" in err
    code, err = run(capsys, "lab", "--dir", str(tmp_path), "fail", "node", "ctl0")
    assert code == 2 and "no lab is up" in err
    assert list(tmp_path.iterdir()) == []


def test_fault_arguments_are_checked_before_anything(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "lab", "fail", "kill", "ctl0")
    assert code == 2 and "needs a node and a process name" in err
    code, err = run(capsys, "lab", "fail", "hang", "ctl0")
    assert code == 2 and "hakeeper lab fail hang ctl0 redis-server" in err
    code, err = run(capsys, "lab", "fail", "partition")
    assert code == 2 and "hakeeper lab fail partition ctl0" in err


def test_a_bad_node_count_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "lab", "--dir", str(tmp_path / "lab"), "up", "--nodes", "12")
    assert code == 2 and "--nodes must be between 1 and 9" in err
    assert not (tmp_path / "lab").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_an_unknown_node_names_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hakeeper.lab import state
    from hakeeper.lab.plan import make_plan

    plan = make_plan(2, directory=str(tmp_path), prefix="zz", bridge="zz0")
    state.save(state.LabState(plan, 2, "zz"))
    code, err = run(capsys, "lab", "--dir", str(tmp_path), "fail", "node", "ctl7")
    assert code == 2 and "no lab node 'ctl7'" in err and "the nodes are zz0, zz1" in err


def test_a_hung_process_is_seen_stopped_until_it_goes_on() -> None:
    import signal
    import subprocess

    from hakeeper.lab.fault import _stopped

    proc = subprocess.Popen(["sleep", "30"])
    try:
        assert not _stopped(proc.pid)
        proc.send_signal(signal.SIGSTOP)
        deadline = time.monotonic() + 5
        while not _stopped(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _stopped(proc.pid)
        proc.send_signal(signal.SIGCONT)
        deadline = time.monotonic() + 5
        while _stopped(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not _stopped(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    assert not _stopped(proc.pid)  # gone: not stopped
