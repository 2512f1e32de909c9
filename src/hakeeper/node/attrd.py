"""The daemon's end of crm_attribute, cibadmin and crm_mon (agents/shims): a unix socket.

Agents run by this daemon find it through $HAKEEPER_ATTRD. A set or delete of this node's
attribute becomes an AttributeChanged event for the state machine, which writes the node's
attribute document (and the leader schedules again); a query answers from the view the
main loop keeps up to date (every node's attributes as last seen), plus this node's own
changes not yet written back. Cluster-wide attributes (crm_attribute --type crm_config,
request scope "crm_config") work the same way, any node setting them. `cib` answers the
cluster as this node knows it, as a CIB (cibadmin -Q; crm_mon renders it).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from hakeeper.agents.remote import read_line

SHIMS = str(Path(__file__).resolve().parent.parent / "agents" / "shims")


def attrd_path(state_dir: str, node: str) -> Path:
    """The socket of a node's daemon: in its state directory, unless that path is too long
    for a unix socket (108 bytes), then under /tmp by a hash of it."""
    path = Path(state_dir) / f"{node}.attrd"
    if len(str(path).encode()) < 100:
        return path
    return Path("/tmp") / f"hk-attrd-{hashlib.sha1(str(path).encode()).hexdigest()[:16]}"


def agent_environment(state_dir: str, node: str) -> dict[str, str]:
    """What agents need to find crm_attribute (and crm_master) and this daemon."""
    return {
        "HA_SBIN_DIR": SHIMS,
        "HAKEEPER_ATTRD": str(attrd_path(state_dir, node)),
        "HAKEEPER_NODE": node,
        # the shims that need hakeeper itself (crm_mon) run it with the daemon's python
        "HAKEEPER_PYTHON": sys.executable,
    }


#: where a bundle container sees the directory of its host daemon's socket
ATTRD_IN_CONTAINER = "/run/hakeeper-attrd"


def container_mounts(state_dir: str, node: str) -> tuple[tuple[str, str, str], ...]:
    """(source, target, options) a bundle container is started with so that the agents
    inside reach this daemon: the shims (at their host path) and the socket's directory
    (a directory, not the socket: a restarted daemon's new socket is seen too)."""
    sock = attrd_path(state_dir, node)
    return ((SHIMS, SHIMS, "ro"), (str(sock.parent), ATTRD_IN_CONTAINER, "rw"))


def executor_dirs(state_dir: str, node: str) -> tuple[str, str] | None:
    """Where the executors in this node's containers put their sockets: the directory
    container_mounts shares, as this daemon sees it and as the containers do. None when
    that is not the state directory (its path too long: /tmp, which others share)."""
    sock = attrd_path(state_dir, node)
    if sock.parent != Path(state_dir):
        return None
    return (str(sock.parent), ATTRD_IN_CONTAINER)


def container_environment(state_dir: str, node: str) -> dict[str, str]:
    """agent_environment as seen inside a bundle container: the shims need python3 in the
    image (stdlib only); crm_mon asks the daemon to render the status (hakeeper itself is
    not in the container)."""
    return {
        "HA_SBIN_DIR": SHIMS,
        "HAKEEPER_ATTRD": f"{ATTRD_IN_CONTAINER}/{attrd_path(state_dir, node).name}",
        "HAKEEPER_NODE": node,
        "HAKEEPER_PYTHON": "python3",
        "HAKEEPER_STATUS": "daemon",  # crm_mon: the daemon renders it
    }


Change = Callable[[str, str | None], None]
#: (node, name) -> value of a permanent attribute; (node, name, value) -> set it (or raise)
PermanentGet = Callable[[str, str], str | None]
PermanentSet = Callable[[str, str, str | None], None]
#: (node, name, value): a change to another node's attribute
PeerChange = Callable[[str, str, str | None], None]


class AttrServer:
    def __init__(
        self,
        path: Path,
        node: str,
        on_change: Change,
        *,
        on_cluster_change: Change | None = None,
        cib: Callable[[], bytes | None] | None = None,
        on_peer_change: PeerChange | None = None,
        permanent: tuple[PermanentGet, PermanentSet] | None = None,
        status: Callable[[str, str], str] | None = None,
    ) -> None:
        """on_peer_change: where a set or delete of another node's attribute goes (galera's
        promote sets every peer's promotion score, as Pacemaker's attrd allows); None
        refuses it. status(cib_xml, "xml" | "text"): crm_mon's output for a CIB, for the
        crm_mon shim where hakeeper itself is not installed (inside a bundle container)."""
        self.path = path
        self.on_peer_change = on_peer_change
        self.permanent = permanent  # -l forever: the configuration's nodes section
        self.node = node
        self.on_change = on_change
        self.on_cluster_change = on_cluster_change
        self.cib = cib
        self.status = status
        self._lock = threading.Lock()
        self._view: dict[str, dict[str, str]] = {}
        self._pending: dict[str, str | None] = {}
        self._cluster: dict[str, str] = {}
        # name -> (the value set here, the value the view had then): shown until the view
        # has it, or another node's newer write (the view moved off the old value)
        self._cluster_pending: dict[str, tuple[str | None, str | None]] = {}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(str(path))
        os.chmod(path, 0o600)
        self._sock.listen(16)
        self._thread = threading.Thread(target=self._serve, name="attrd", daemon=True)
        self._thread.start()

    def update_view(
        self,
        attributes: Mapping[str, Mapping[str, str]],
        cluster: Mapping[str, str] | None = None,
    ) -> None:
        """Every node's attributes (and the cluster's), as the state machine now knows them."""
        with self._lock:
            self._view = {n: dict(a) for n, a in attributes.items()}
            mine = self._view.get(self.node, {})
            self._pending = {k: v for k, v in self._pending.items() if mine.get(k) != v}
            if cluster is not None:
                self._cluster = dict(cluster)
                self._cluster_pending = {
                    k: (v, base)
                    for k, (v, base) in self._cluster_pending.items()
                    if self._cluster.get(k) == base != v
                }

    def close(self) -> None:
        self._sock.close()
        self.path.unlink(missing_ok=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return  # closed
            with conn:
                try:
                    conn.settimeout(5)
                    reply = self.answer(json.loads(read_line(conn) or b"{}"))
                except (OSError, ValueError) as err:
                    reply = {"ok": False, "error": f"bad request: {err}"}
                try:
                    conn.sendall(json.dumps(reply).encode() + b"\n")
                except OSError:
                    pass

    def answer(self, request: Mapping[str, object]) -> dict[str, object]:
        op, name = request.get("op"), request.get("name")
        if op == "cib":
            return self._answer_cib()
        if op == "status":
            return self._answer_status(request.get("cib"), request.get("output"))
        if request.get("scope") == "crm_config":
            return self._answer_cluster(op, name, request.get("value"))
        node = request.get("node") or self.node
        if not isinstance(name, str) or not name or not isinstance(node, str):
            return {"ok": False, "error": "an attribute name is required", "code": 64}
        if request.get("lifetime") == "forever" and self.permanent is not None:
            return self._answer_permanent(op, node, name, request.get("value"))
        if op == "get":
            with self._lock:
                attrs = dict(self._view.get(node, {}))
                if node == self.node:
                    attrs.update({k: v for k, v in self._pending.items() if v is not None})
                    for k, v in self._pending.items():
                        if v is None:
                            attrs.pop(k, None)
            return {"ok": True, "value": attrs.get(name)}
        if op not in ("set", "delete"):
            return {"ok": False, "error": f"unknown operation {op!r}", "code": 64}
        if node != self.node and self.on_peer_change is not None:
            value = request.get("value") if op == "set" else None
            if value is not None and not isinstance(value, str):
                return {"ok": False, "error": "the value must be a string", "code": 64}
            self.on_peer_change(node, name, value)
            return {"ok": True}
        if node != self.node:
            return {
                "ok": False,
                "code": 1,
                "error": f"this is {self.node}'s daemon: it sets only its own attributes",
            }
        value = request.get("value") if op == "set" else None
        if value is not None and not isinstance(value, str):
            return {"ok": False, "error": "the value must be a string", "code": 64}
        with self._lock:
            self._pending[name] = value
        self.on_change(name, value)
        return {"ok": True}

    def _answer_permanent(
        self, op: object, node: str, name: str, value: object
    ) -> dict[str, object]:
        """Any node's permanent attribute, read from and written to the store at once (the
        agent's next query sees its write, as with Pacemaker's CIB)."""
        assert self.permanent is not None
        get, put = self.permanent
        if op not in ("get", "set", "delete"):
            return {"ok": False, "error": f"unknown operation {op!r}", "code": 64}
        if op == "set" and not isinstance(value, str):
            return {"ok": False, "error": "the value must be a string", "code": 64}
        try:
            if op == "get":
                return {"ok": True, "value": get(node, name)}
            put(node, name, value if op == "set" and isinstance(value, str) else None)
        except Exception as err:  # the store or the stored configuration: say which
            return {"ok": False, "code": 1, "error": f"the configuration could not be {op}: {err}"}
        return {"ok": True}

    def _answer_cib(self) -> dict[str, object]:
        if self.cib is None:
            return {"ok": False, "code": 3, "error": "this daemon does not serve the CIB"}
        try:
            xml = self.cib()
        except Exception as err:  # an invalid stored configuration, mostly: say so
            return {"ok": False, "code": 1, "error": f"the cluster cannot be shown: {err}"}
        if xml is None:
            return {"ok": False, "code": 105, "error": "no configuration is stored yet"}
        return {"ok": True, "value": xml.decode()}

    def _answer_status(self, cib: object, output: object) -> dict[str, object]:
        if self.status is None:
            return {"ok": False, "code": 3, "error": "this daemon does not render the status"}
        if cib is None:
            answer = self._answer_cib()
            if not answer.get("ok"):
                return answer
            cib = answer["value"]
        if not isinstance(cib, str) or output not in ("xml", "text"):
            return {"ok": False, "code": 64, "error": "a CIB and an output (xml, text) are needed"}
        try:
            return {"ok": True, "value": self.status(cib, output)}
        except Exception as err:  # an invalid CIB, mostly: say so
            return {"ok": False, "code": 1, "error": f"the cluster cannot be shown: {err}"}

    def _answer_cluster(self, op: object, name: object, value: object) -> dict[str, object]:
        if not isinstance(name, str) or not name or "/" in name:
            return {"ok": False, "error": "an attribute name (without '/') is required", "code": 64}
        if op == "get":
            with self._lock:
                attrs = dict(self._cluster)
                for k, (v, _) in self._cluster_pending.items():
                    if v is None:
                        attrs.pop(k, None)
                    else:
                        attrs[k] = v
            return {"ok": True, "value": attrs.get(name)}
        if op not in ("set", "delete"):
            return {"ok": False, "error": f"unknown operation {op!r}", "code": 64}
        if self.on_cluster_change is None:
            return {"ok": False, "code": 3, "error": "cluster attributes are not served here"}
        if op == "set" and not isinstance(value, str):
            return {"ok": False, "error": "the value must be a string", "code": 64}
        new = value if op == "set" and isinstance(value, str) else None
        with self._lock:
            self._cluster_pending[name] = (new, self._cluster.get(name))
        self.on_cluster_change(name, new)
        return {"ok": True}
