"""The whole stored CIB out and in (cibadmin --query / --replace)."""

from __future__ import annotations

from hakeeper.cib.parse import parse_cib_text
from hakeeper.cib.render import render_cib
from hakeeper.commands.cib_store import (
    EditResult,
    StoredCib,
    load,
    validated_xml,
)
from hakeeper.commands.env import Env
from hakeeper.coord import Conflict
from hakeeper.model.cib import Cib
from hakeeper.model.config import (
    Configuration,
)
from hakeeper.model.status import Status

# --- the whole CIB --------------------------------------------------------------------------------


def cib_export(env: Env) -> StoredCib:
    return load(env)


def cib_text(stored: StoredCib) -> str:
    return render_cib(stored.cib).decode()


def cib_import(
    env: Env, text: str, source: str, *, expected_revision: int | None = None
) -> EditResult:
    """Replace the stored configuration with a CIB's configuration section (its status
    section is dropped: status lives in the store). Compare-and-swap against the revision
    read now, or against expected_revision (from an earlier export) if given."""
    cib = parse_cib_text(text, source=source)
    with env.coordinator() as coord:
        doc = coord.read_config()
        current = doc.revision if doc is not None else 0
        base = Cib(Configuration(), Status(), cib.root_attributes)
        new_text = validated_xml(base, cib.configuration)
        expected = current if expected_revision is None else expected_revision
        try:
            revision = coord.write_config(new_text, expected_revision=expected)
        except Conflict as err:
            from hakeeper.commands.cib_store import conflict

            raise conflict(env.store, err) from None
    return EditResult(revision, True)
