"""The lab's edge with the OS, on a directory tree standing in for /sys/fs/cgroup."""

from __future__ import annotations

from pathlib import Path

from hakeeper.lab import system

A = "a" * 64
B = "b" * 64


def test_a_killed_containers_cgroups_are_found_in_every_hierarchy_and_removed(
    tmp_path: Path,
) -> None:
    # cgroup v1: one hierarchy per controller; podman's cgroupfs manager nests them so
    for hierarchy in ("cpu", "memory", "pids"):
        (tmp_path / hierarchy / "libpod_parent" / f"libpod-{A}" / "sub").mkdir(parents=True)
    (tmp_path / "memory" / "libpod_parent" / f"libpod-{B}").mkdir()  # another's: kept
    (tmp_path / "cpuset").mkdir()  # no container in it
    found = system.container_cgroups([A, A], root=str(tmp_path))
    assert found == [
        str(tmp_path / h / "libpod_parent" / f"libpod-{A}") for h in ("cpu", "memory", "pids")
    ]
    assert system.remove_cgroups(found) == []
    assert system.container_cgroups([A], root=str(tmp_path)) == []
    assert (tmp_path / "memory" / "libpod_parent" / f"libpod-{B}").is_dir()


def test_a_cgroup_that_cannot_go_is_reported(tmp_path: Path) -> None:
    busy = tmp_path / "libpod_parent" / f"libpod-{A}"  # cgroup v2: the root is the hierarchy
    busy.mkdir(parents=True)
    (busy / "cgroup.procs").write_text("123\n")  # a real cgroup refuses rmdir while in use
    found = system.container_cgroups([A], root=str(tmp_path))
    assert found == [str(busy)]
    assert system.remove_cgroups(found) == [str(busy)]
    assert system.container_cgroups([A], root=str(tmp_path / "missing")) == []
