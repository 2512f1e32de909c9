"""What a booted lab node no longer has mounted (lab.node.volatile_mounts), from a
mountinfo like a node holder's: the host's /run hidden under the node's own, the node's
/run/netns carried over, podman's mounts under /run and the graph root."""

from __future__ import annotations

from hakeeper.lab.node import volatile_mounts

GRAPH = "/var/lib/hakeeper/lab/node/containers/"
MOUNTINFO = """\
22 1 0:21 / / rw - ext4 /dev/vda1 rw
30 22 0:25 / /run rw - tmpfs tmpfs rw
31 30 0:26 / /run/lock rw - tmpfs tmpfs rw
32 30 0:27 / /run/user/0 rw - tmpfs tmpfs rw
40 22 0:30 / /run rw - tmpfs lab-run rw
41 40 0:4 / /run/netns rw - tmpfs tmpfs rw
42 41 0:4 net:[4026532] /run/netns/ctl0 rw - nsfs nsfs rw
43 40 0:31 / /run/containers/storage/overlay-containers/ab/userdata/shm rw - tmpfs shm rw
44 40 0:32 / /run/netns2 rw - tmpfs tmpfs rw
45 40 0:33 / /run/with\\040space rw - tmpfs tmpfs rw
50 22 253:1 /nodes/ctl0 /var/lib/hakeeper/lab/node rw - ext4 /dev/vda1 rw
51 50 0:34 / /var/lib/hakeeper/lab/node/containers/overlay/ab/merged rw - overlay overlay rw
"""


def test_the_nodes_own_run_and_graph_root_mounts_deepest_first() -> None:
    assert volatile_mounts(MOUNTINFO, GRAPH) == [
        "/var/lib/hakeeper/lab/node/containers/overlay/ab/merged",
        "/run/containers/storage/overlay-containers/ab/userdata/shm",
        "/run/netns2",
        "/run/with space",
    ]


def test_nothing_when_nothing_is_mounted_there() -> None:
    assert volatile_mounts("22 1 0:21 / / rw - ext4 /dev/vda1 rw\n", GRAPH) == []
