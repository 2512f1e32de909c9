"""connect(URL): the backend is chosen by the URL's scheme, its options by the query.

memory://                                   in-process fake (tests)
sqlite:///var/lib/hakeeper/store.db         one host; ?poll_interval=0.05&busy_timeout=5
etcd://10.0.0.1:2379,10.0.0.2:2379          ?namespace=/hakeeper/&timeout=3
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from hakeeper.coord.coordinator import Coordinator
from hakeeper.coord.keyspace import KeyspaceCoordinator

SCHEMES = ("memory", "sqlite", "etcd")


def _query(query: str, known: set[str]) -> dict[str, str]:
    found = {}
    for name, values in parse_qs(query, keep_blank_values=True).items():
        if name not in known:
            raise ValueError(f"unknown store option {name!r}; known: {sorted(known)}")
        found[name] = values[-1]
    return found


def _float(options: dict[str, str], name: str, default: float) -> float:
    if name not in options:
        return default
    try:
        value = float(options[name])
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"store option {name}={options[name]!r}: expected seconds > 0")
    return value


def parse_endpoints(netloc: str) -> list[tuple[str, int]]:
    """HOST:PORT[,HOST:PORT...] -> [(host, port), ...]; port defaults to 2379."""
    endpoints = []
    for part in netloc.split(","):
        host, sep, port = part.strip().rpartition(":")
        if not sep:
            host, port = port, "2379"
        if not host or not port.isdigit():
            raise ValueError(f"bad etcd endpoint {part!r}: expected HOST:PORT")
        endpoints.append((host.strip("[]"), int(port)))
    return endpoints


def connect(url: str) -> Coordinator:
    """The Coordinator for a store URL; ValueError if the URL is malformed."""
    parts = urlsplit(url)
    if parts.scheme == "memory":
        from hakeeper.coord.memory import MemoryKv

        _query(parts.query, set())
        return KeyspaceCoordinator(MemoryKv())
    if parts.scheme == "sqlite":
        from hakeeper.coord.sqlite import SqliteKv

        if not parts.path or parts.netloc:
            raise ValueError(f"bad sqlite URL {url!r}: expected sqlite:///PATH")
        opts = _query(parts.query, {"poll_interval", "busy_timeout"})
        return KeyspaceCoordinator(
            SqliteKv(
                parts.path,
                poll_interval=_float(opts, "poll_interval", 0.05),
                busy_timeout=_float(opts, "busy_timeout", 5.0),
            )
        )
    if parts.scheme == "etcd":
        from hakeeper.coord.etcd import EtcdKv

        opts = _query(parts.query, {"namespace", "timeout"})
        return KeyspaceCoordinator(
            EtcdKv(
                parse_endpoints(parts.netloc),
                namespace=opts.get("namespace", "/hakeeper/"),
                timeout=_float(opts, "timeout", 3.0),
            )
        )
    raise ValueError(f"unknown store {url!r}: the scheme must be one of {', '.join(SCHEMES)}")
