"""Library commands on cluster properties and node attributes (pcs property, pcs node)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from hakeeper.cib import edit
from hakeeper.commands.cib_store import (
    EditResult,
    edit_config,
    load,
    simple,
)
from hakeeper.commands.env import Env
from hakeeper.model.config import (
    Configuration,
)
from hakeeper.reports import CommandError, Report, codes

# --- properties and node attributes ------------------------------------------------------------


# Pacemaker 2.1's cluster options (pacemaker-schedulerd/-controld/-based metadata)
KNOWN_PROPERTIES = frozenset(
    [
        "no-quorum-policy",
        "symmetric-cluster",
        "maintenance-mode",
        "start-failure-is-fatal",
        "enable-startup-probes",
        "shutdown-lock",
        "shutdown-lock-limit",
        "stonith-enabled",
        "stonith-action",
        "stonith-timeout",
        "have-watchdog",
        "concurrent-fencing",
        "startup-fencing",
        "priority-fencing-delay",
        "cluster-delay",
        "batch-limit",
        "migration-limit",
        "stop-all-resources",
        "stop-orphan-resources",
        "stop-orphan-actions",
        "remove-after-stop",
        "pe-error-series-max",
        "pe-warn-series-max",
        "pe-input-series-max",
        "node-health-strategy",
        "node-health-base",
        "node-health-green",
        "node-health-yellow",
        "node-health-red",
        "placement-strategy",
        "dc-version",
        "cluster-infrastructure",
        "cluster-name",
        "dc-deadtime",
        "cluster-recheck-interval",
        "load-threshold",
        "node-action-limit",
        "fence-reaction",
        "election-timeout",
        "shutdown-escalation",
        "join-integration-timeout",
        "join-finalization-timeout",
        "transition-delay",
        "stonith-watchdog-timeout",
        "stonith-max-attempts",
        "enable-acl",
        "cluster-ipc-limit",
        "last-lrm-refresh",
    ]
)
BOOLEAN_PROPERTIES = frozenset(
    [
        "symmetric-cluster",
        "maintenance-mode",
        "start-failure-is-fatal",
        "enable-startup-probes",
        "shutdown-lock",
        "stonith-enabled",
        "have-watchdog",
        "concurrent-fencing",
        "startup-fencing",
        "stop-all-resources",
        "stop-orphan-resources",
        "stop-orphan-actions",
        "remove-after-stop",
        "enable-acl",
    ]
)
CHOICES = {
    "no-quorum-policy": ("stop", "freeze", "ignore", "demote", "suicide"),
    "placement-strategy": ("default", "utilization", "minimal", "balanced"),
    "stonith-action": ("reboot", "off", "poweroff"),
    "node-health-strategy": ("none", "migrate-on-red", "only-green", "progressive", "custom"),
}
BOOL_WORDS = ("true", "false", "yes", "no", "on", "off", "1", "0", "y", "n")


def check_property(name: str, value: str | None, *, force: bool) -> None:
    """Reject names Pacemaker does not know and values it would not read (pcs does the
    same); force lets an unknown name through, as pcs --force."""
    if name not in KNOWN_PROPERTIES:
        if force:
            return
        close = difflib.get_close_matches(name, sorted(KNOWN_PROPERTIES), n=3)
        raise CommandError(
            Report.error(
                codes.CIB_BAD_VALUE,
                f"'{name}' is not a cluster property",
                where="property",
                property=name,
                hint=(f"did you mean {', '.join(close)}? " if close else "")
                + "pass --force to set it anyway",
            )
        )
    if value is None:
        return
    allowed = BOOL_WORDS if name in BOOLEAN_PROPERTIES else CHOICES.get(name)
    if allowed is not None and value.lower() not in allowed:
        raise CommandError(
            Report.error(
                codes.CIB_BAD_VALUE,
                f"'{value}' is not a value of {name}",
                where="property",
                property=name,
                value=value,
                hint="use one of: " + ", ".join(allowed),
            )
        )


def property_set(env: Env, values: Mapping[str, str | None], *, force: bool = False) -> EditResult:
    for name, value in values.items():
        check_property(name, value, force=force)
    return edit_config(env, simple(lambda config: edit.set_properties(config, values)))


def property_unset(env: Env, names: Sequence[str]) -> EditResult:
    """pcs property unset: removing a property that is not set is an error, as in pcs."""

    def change(config: Configuration) -> Configuration:
        current = edit.values_of(config.crm_config)
        missing = [n for n in names if n not in current]
        if missing:
            raise CommandError(
                Report.error(
                    codes.PROPERTY_NOT_SET,
                    f"cannot unset {', '.join(repr(n) for n in missing)}: not set in "
                    "cib-bootstrap-options",
                    where="property unset",
                    properties=missing,
                    hint="properties that are set: "
                    + (", ".join(current) or "none")
                    + " (`hakeeper property list`)",
                )
            )
        return edit.set_properties(config, dict.fromkeys(names))

    return edit_config(env, simple(change))


def property_list(env: Env) -> dict[str, str]:
    return edit.values_of(load(env).cib.configuration.crm_config)


def node_attribute_set(
    env: Env, node: str, values: Mapping[str, str | None], *, utilization: bool = False
) -> EditResult:
    return edit_config(
        env,
        simple(
            lambda config: edit.set_node_attributes(config, node, values, utilization=utilization)
        ),
    )


def node_standby(env: Env, nodes: Sequence[str], on: bool) -> EditResult:
    """pcs node standby|unstandby: the permanent `standby` node attribute."""
    return _node_flag(env, nodes, "standby", on)


def node_maintenance(env: Env, nodes: Sequence[str], on: bool) -> EditResult:
    return _node_flag(env, nodes, "maintenance", on)


def _node_flag(env: Env, nodes: Sequence[str], name: str, on: bool) -> EditResult:
    def change(config: Configuration) -> Configuration:
        targets = nodes or [n.uname for n in config.nodes]
        for node in targets:
            config = edit.set_node_attributes(config, node, {name: "on" if on else None})
        return config

    return edit_config(env, simple(change))


def node_attributes(env: Env) -> dict[str, dict[str, str]]:
    config = load(env).cib.configuration
    return {n.uname: edit.values_of(n.attributes) for n in config.nodes}
