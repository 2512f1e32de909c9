"""The environment of the commands that act on a running cluster: its store, this host.

The store URL comes from `--store`, else $HAKEEPER_STORE, else DEFAULT_STORE, the same
default the node daemon documents (docs/cli.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hakeeper.coord import CoordError, Coordinator, connect
from hakeeper.reports import CommandError, Report, codes

if TYPE_CHECKING:  # the agents package is heavy; only edits that check options load it
    from hakeeper.agents.metadata import AgentMetadata
    from hakeeper.model.config import Agent

DEFAULT_STORE = "sqlite:///var/lib/hakeeper/store.db"
DEFAULT_RUN_DIR = "/run/hakeeper"


def store_url(option: str | None) -> str:
    return option or os.environ.get("HAKEEPER_STORE") or DEFAULT_STORE


def local_metadata(agent: Agent) -> AgentMetadata:
    """An OCF agent's meta-data from this host's agent; MetadataError if it has none."""
    from hakeeper.agents.ocf import OcfRunner

    return OcfRunner().metadata(agent)


def run_dir() -> str:
    return os.environ.get("HAKEEPER_RUN_DIR") or DEFAULT_RUN_DIR


@dataclass(frozen=True, slots=True)
class Env:
    """Where the cluster's store is and how to open it; where this host keeps PID files.

    `connect` is the seam tests use to share one in-process store (memory://) between
    commands; everything else opens the URL. `metadata` reads an OCF agent's meta-data
    (to check a resource's options as pcs does), from this host's agents by default.
    """

    store: str = DEFAULT_STORE
    run_dir: str = DEFAULT_RUN_DIR
    connect: Callable[[str], Coordinator] = field(default=connect)
    metadata: Callable[[Agent], AgentMetadata] = field(default=local_metadata)

    @contextmanager
    def coordinator(self, *, create: bool = False) -> Iterator[Coordinator]:
        """An open Coordinator; store errors become reports with codes. Only the commands
        that make a cluster (setup, import) create a SQLite store file: any other command
        on a mistyped path must say so, not leave an empty store there."""
        if not create:
            _require_sqlite_file(self.store)
        try:
            coord = self.connect(self.store)
        except ValueError as err:
            raise CommandError(
                Report.error(
                    codes.STORE_BAD_URL,
                    str(err),
                    where="--store",
                    url=self.store,
                    hint="use sqlite:///PATH, etcd://HOST:PORT[,HOST:PORT...] or memory://",
                ),
            ) from None
        except CoordError as err:
            raise unavailable(self.store, err) from None
        try:
            yield coord
        except CoordError as err:  # commands translate the errors they expect (Conflict)
            raise unavailable(self.store, err) from None
        finally:
            coord.close()


def _require_sqlite_file(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or not parts.path or parts.netloc:
        return  # not a SQLite store, or a malformed URL that connect() reports
    if not os.path.exists(parts.path):
        raise CommandError(
            Report.error(
                codes.STORE_NOT_FOUND,
                f"no store at {parts.path}; did you run `hakeeper cluster setup`?",
                where="--store",
                url=url,
                hint="create it with `hakeeper cluster setup NAME NODE...` (or `hakeeper cib "
                "import FILE`), or point --store / $HAKEEPER_STORE at the existing store",
            )
        )


def unavailable(url: str, err: Exception) -> CommandError:
    return CommandError(
        Report.error(
            codes.STORE_UNAVAILABLE,
            f"the store {url} could not be used: {err}",
            where="--store",
            url=url,
            hint="check that the store is reachable (etcd running, file readable), "
            "or pass --store / set HAKEEPER_STORE",
        )
    )
