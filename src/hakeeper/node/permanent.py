"""Permanent node attributes (crm_attribute -l forever) for the agents the daemon runs.

Pacemaker keeps them in the CIB's nodes section, where `hakeeper node attribute` (as
`pcs node attribute`) writes them too: they survive a node's restart and rejoin, unlike
the transient (`-l reboot`) ones in the node's status. A write is a compare-and-swap on
the stored configuration, retried when another edit won the race; a node the nodes
section does not list yet is added, as Pacemaker's controller adds a node that joins.
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum

from hakeeper.cib.edit import set_node_attributes, values_of
from hakeeper.cib.parse import parse_cib_text
from hakeeper.cib.render import render_cib
from hakeeper.coord import Conflict, Coordinator
from hakeeper.model.config import NodeConfig


def read(coord: Coordinator, node: str, name: str) -> str | None:
    """The permanent attribute as stored now (a linearizable read of the configuration)."""
    doc = coord.read_config()
    if doc is None:
        return None
    for n in parse_cib_text(doc.xml).configuration.nodes:
        if n.uname == node:
            return values_of(n.attributes).get(name)
    return None


class Written(Enum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"  # it already had that value: nothing written, as cibadmin's no-op
    LOST = "lost"  # another edit won every attempt
    NO_CONFIGURATION = "no configuration"  # none is stored to write it in


def write(
    coord: Coordinator, node: str, name: str, value: str | None, attempts: int = 5
) -> Written:
    """Set (None: delete) it. Raises CommandError for a stored configuration that does not
    parse, CoordError if the store fails."""
    for _ in range(attempts):
        doc = coord.read_config()
        if doc is None:
            return Written.NO_CONFIGURATION
        cib = parse_cib_text(doc.xml)
        config = cib.configuration
        if node not in {n.uname for n in config.nodes}:
            if value is None:
                return Written.UNCHANGED
            config = replace(config, nodes=(*config.nodes, NodeConfig(node, node)))
        new = set_node_attributes(config, node, {name: value})
        if new == cib.configuration:
            return Written.UNCHANGED
        root = dict(cib.root_attributes)
        epoch = root.get("epoch", "0")
        root["epoch"] = str(int(epoch) + 1 if epoch.isdigit() else 1)
        xml = render_cib(replace(cib, configuration=new, root_attributes=tuple(root.items())))
        try:
            coord.write_config(xml.decode(), expected_revision=doc.revision)
            return Written.CHANGED
        except Conflict:
            continue
    return Written.LOST
