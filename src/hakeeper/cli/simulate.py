"""`hakeeper simulate CIB.xml`: what the cluster would do, printed as crm_simulate -S does."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hakeeper.commands.simulate import SimulateDto, simulate
from hakeeper.model.scores import render as render_score
from hakeeper.scheduler.summary import summary_width
from hakeeper.scheduler.view import ClusterView, render_view


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "simulate",
        help="compute what the cluster would do, from a CIB file",
        description="Run the scheduler on a Pacemaker CIB file and print the transition "
        "summary, as crm_simulate -S does. No cluster is needed.",
    )
    p.add_argument(
        "--node-fail",
        action="append",
        default=[],
        metavar="NODE",
        help="simulate the loss of NODE (repeatable)",
    )
    p.add_argument(
        "--op-inject",
        "-i",
        action="append",
        default=[],
        metavar="OP",
        help="inject an operation result before scheduling: "
        "RSC_TASK_INTERVALMS@NODE=RC (repeatable)",
    )
    p.add_argument(
        "--op-fail",
        "-F",
        action="append",
        default=[],
        metavar="OP",
        help="same form as --op-inject; the result is injected before scheduling",
    )
    p.add_argument(
        "--show-scores",
        "-s",
        action="store_true",
        help="print allocation scores, as crm_simulate -s does",
    )
    p.add_argument(
        "--save-output",
        metavar="OUT.xml",
        help="write the input CIB, with injections applied, to OUT.xml",
    )
    p.add_argument("--output", choices=("text", "json"), default="text")
    p.add_argument("cib", help="the CIB XML file (cibadmin --query > cib.xml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dto = simulate(
        args.cib,
        node_fail=tuple(args.node_fail),
        inject=tuple(args.op_inject) + tuple(args.op_fail),
    )
    if args.save_output:
        from hakeeper.cib.render import write_cib

        write_cib(dto.cib, args.save_output)
    if args.output == "json":
        json.dump(as_json(dto), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(render_text(dto, show_scores=args.show_scores))
    return 0


def render_text(dto: SimulateDto, *, show_scores: bool = False) -> str:
    plan = dto.plan
    out = ["Current cluster status:", *render_view(plan.current), ""]
    if show_scores:
        out.append("Allocation scores:")
        for score in sorted(plan.scores, key=lambda s: (s.phase, s.resource, s.node)):
            if score.phase == "promotion":
                out.append(
                    f"{score.resource} promotion score on {score.node}: {render_score(score.score)}"
                )
                continue
            out.append(
                f"{score.phase}: {score.resource} allocation score on {score.node}: "
                f"{render_score(score.score)}"
            )
        out.append("")
    out.append("Transition Summary:")
    width = summary_width(list(plan.changes))
    for fence in plan.fencing:
        out.append(fence.line())
    for change in plan.changes:
        out.append(change.line(width))
    out.append("")
    out.append("Revised Cluster Status:")
    out.extend(render_view(plan.revised))
    return "\n".join(out) + "\n"


def _view_json(view: ClusterView) -> dict[str, Any]:
    def rsc(r: Any) -> dict[str, Any]:
        return {
            "id": r.id,
            "kind": r.kind,
            "agent": r.agent,
            "role": r.role.label,
            "nodes": list(r.nodes),
            "failed": r.failed,
            "managed": r.managed,
            "blocked": r.blocked,
            "disabled": r.disabled,
            "children": [rsc(c) for c in r.children],
        }

    return {
        "nodes": [
            {
                "name": n.name,
                "online": n.online,
                "unclean": n.unclean,
                "standby": n.standby,
                "maintenance": n.maintenance,
                "pending": n.pending,
                "shutdown": n.shutdown,
            }
            for n in view.nodes
        ],
        "resources": [rsc(r) for r in view.resources],
    }


def as_json(dto: SimulateDto) -> dict[str, Any]:
    plan = dto.plan
    return {
        "schema": "hakeeper.simulate/1",
        "current": _view_json(plan.current),
        "transition": {
            "fencing": [
                {"node": f.node, "action": f.action, "reason": f.reason} for f in plan.fencing
            ],
            "changes": [
                {
                    "action": c.verb,
                    "resource": c.resource,
                    "from": c.from_node,
                    "to": c.to_node,
                    "details": c.details,
                    "reason": c.reason,
                }
                for c in plan.changes
            ],
            "actions": [
                {
                    "id": a.id,
                    "after": list(a.after),
                    "task": a.task,
                    "resource": a.resource,
                    "node": a.node,
                    "interval_ms": a.interval_ms,
                    "required": not a.optional,
                    "runnable": a.runnable,
                    "pseudo": a.pseudo,
                    "reason": a.reason,
                }
                for a in plan.actions
                if not a.optional
            ],
        },
        "scores": [
            {"phase": s.phase, "resource": s.resource, "node": s.node, "score": s.score}
            for s in plan.scores
        ],
        "revised": _view_json(plan.revised),
    }
