"""Evaluate Pacemaker rules (node attribute and date expressions) in a context. Pure."""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hakeeper.model.config import (
    AttrSet,
    DateExpression,
    Expression,
    OpExpression,
    Role,
    RscExpression,
    Rule,
)
from hakeeper.model.scores import INFINITY, ScoreError, parse_score


@dataclass(frozen=True, slots=True)
class RuleContext:
    node_attrs: Mapping[str, str] | None = None
    now: int | None = None  # seconds since the epoch
    role: Role | None = None
    rsc_standard: str | None = None
    rsc_provider: str | None = None
    rsc_type: str | None = None
    op_name: str | None = None
    op_interval_ms: int | None = None


def _compare_typed(left: str, right: str, kind: str) -> int | None:
    if kind in ("integer", "number"):
        try:
            a: float = int(float(left)) if kind == "integer" else float(left)
            b: float = int(float(right)) if kind == "integer" else float(right)
        except ValueError:
            return None
        return (a > b) - (a < b)
    if kind == "version":
        pa = [int(x) for x in re.findall(r"\d+", left)]
        pb = [int(x) for x in re.findall(r"\d+", right)]
        while len(pa) < len(pb):
            pa.append(0)
        while len(pb) < len(pa):
            pb.append(0)
        return (pa > pb) - (pa < pb)
    la, lb = left.lower(), right.lower()
    return (la > lb) - (la < lb)


def eval_expression(expr: Expression, ctx: RuleContext, params: Mapping[str, str]) -> bool:
    attrs = ctx.node_attrs or {}
    value = attrs.get(expr.attribute)
    op = expr.operation
    if op == "defined":
        return value is not None
    if op == "not_defined":
        return value is None
    ref = expr.value
    if expr.value_source in ("param", "meta") and ref is not None:
        ref = params.get(ref)
    if value is None or ref is None:
        return op == "ne" and not (value is None and ref is None)
    kind = expr.type
    if kind is None:
        # Pacemaker compares as numbers when both sides look like integers and op is ordered
        if op in ("lt", "lte", "gt", "gte") and _is_number(value) and _is_number(ref):
            kind = "number"
        else:
            kind = "string"
    cmp = _compare_typed(value, ref, kind)
    if cmp is None:
        # a side that does not parse as the type: Pacemaker compares the strings
        cmp = _compare_typed(value, ref, "string")
        assert cmp is not None
    return {
        "eq": cmp == 0,
        "ne": cmp != 0,
        "lt": cmp < 0,
        "lte": cmp <= 0,
        "gt": cmp > 0,
        "gte": cmp >= 0,
    }.get(op, False)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_ISO_RE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


_ORDINAL_RE = re.compile(r"^(\d{4})-(\d{3})(?:[T ](.*))?$")
_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})-(\d)(?:[T ](.*))?$")


def parse_datetime(text: str) -> int | None:
    """Parse ISO 8601 as Pacemaker accepts it: calendar, ordinal (2005-001) or week dates."""
    value = text.strip()
    for regex, kind in ((_ORDINAL_RE, "ordinal"), (_WEEK_RE, "week")):
        m = regex.match(value)
        if m is None:
            continue
        year = int(m.group(1))
        if kind == "ordinal":
            base = datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=int(m.group(2)) - 1)
        else:
            base = datetime.fromisocalendar(year, int(m.group(2)), int(m.group(3)))
            base = base.replace(tzinfo=UTC)
        rest = m.groups()[-1]
        if rest:
            extra = parse_datetime(f"1970-01-01T{rest}")
            if extra is None:
                return None
            return int(base.timestamp()) + extra
        return int(base.timestamp())
    m = _ISO_RE.match(value)
    if not m:
        return None
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    hour = int(m.group(4) or 0)
    minute = int(m.group(5) or 0)
    second = int(m.group(6) or 0)
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    offset = m.group(7)
    if offset and offset != "Z":
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return int(moment.timestamp())


def _add_duration(start: int, duration: tuple[tuple[str, str], ...]) -> int:
    moment = datetime.fromtimestamp(start, tz=UTC)
    fields = dict(duration)
    years = int(fields.get("years", 0))
    months = int(fields.get("months", 0))
    if years or months:
        total = moment.month - 1 + months + 12 * years
        year = moment.year + total // 12
        month = total % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        moment = moment.replace(year=year, month=month, day=day)
    moment += timedelta(
        weeks=int(fields.get("weeks", 0)),
        days=int(fields.get("days", 0)),
        hours=int(fields.get("hours", 0)),
        minutes=int(fields.get("minutes", 0)),
        seconds=int(fields.get("seconds", 0)),
    )
    return int(moment.timestamp())


def _in_spec_range(value: int, spec: str) -> bool:
    if "-" in spec.strip("-"):
        low, high = spec.split("-", 1)
        return int(low) <= value <= int(high)
    return value == int(spec)


def eval_date(expr: DateExpression, now: int | None) -> bool:
    if now is None:
        return False
    op = expr.operation
    start = parse_datetime(expr.start) if expr.start else None
    end = parse_datetime(expr.end) if expr.end else None
    if op == "gt":
        return start is not None and now > start
    if op == "lt":
        return end is not None and now < end
    if op == "in_range":
        if end is None and start is not None and expr.duration:
            end = _add_duration(start, expr.duration)
        if start is not None and now < start:
            return False
        return not (end is not None and now > end)
    if op == "date_spec" and expr.spec is not None:
        moment = datetime.fromtimestamp(now, tz=UTC)
        iso = moment.isocalendar()
        values = {
            "hours": moment.hour,
            "minutes": moment.minute,
            "seconds": moment.second,
            "monthdays": moment.day,
            "weekdays": iso[2],
            "yeardays": moment.timetuple().tm_yday,
            "months": moment.month,
            "weeks": iso[1],
            "years": moment.year,
            "weekyears": iso[0],
        }
        for name, spec in expr.spec.fields:
            if name in values and not _in_spec_range(values[name], spec):
                return False
        return True
    return False


def eval_rule(rule: Rule, ctx: RuleContext, params: Mapping[str, str] | None = None) -> bool:
    params = params or {}
    if rule.role is not None:
        wanted = Role.parse(rule.role)
        if ctx.role is None or wanted != ctx.role:
            return False
    if not rule.terms:
        return True
    results = []
    for term in rule.terms:
        if isinstance(term, Expression):
            ok = eval_expression(term, ctx, params)
        elif isinstance(term, DateExpression):
            ok = eval_date(term, ctx.now)
        elif isinstance(term, RscExpression):
            ok = (
                (term.standard is None or term.standard == ctx.rsc_standard)
                and (term.provider is None or term.provider == ctx.rsc_provider)
                and (term.type is None or term.type == ctx.rsc_type)
            )
        elif isinstance(term, OpExpression):
            ok = term.name == ctx.op_name
        else:
            ok = eval_rule(term, ctx, params)
        results.append(ok)
    if rule.boolean_op == "or":
        return any(results)
    return all(results)


def rule_score(rule: Rule, attrs: Mapping[str, str] | None) -> int:
    if rule.score_attribute is not None:
        raw = (attrs or {}).get(rule.score_attribute)
        if raw is None:
            return 0
        try:
            return parse_score(raw)
        except ScoreError:
            return 0
    if rule.score is None:
        return 0
    try:
        return parse_score(rule.score)
    except ScoreError:
        return -INFINITY


def resolve_sets(
    sets: tuple[AttrSet, ...],
    ctx: RuleContext,
    into: dict[str, str] | None = None,
    overwrite: bool = False,
) -> dict[str, str]:
    """Merge attribute sets the way Pacemaker does: higher set score first, first value wins."""
    result = {} if into is None else into

    def order(s: AttrSet) -> int:
        try:
            return parse_score(s.score) if s.score is not None else 0
        except ScoreError:
            return 0

    for attr_set in sorted(sets, key=order, reverse=True):
        if attr_set.rule is not None and not eval_rule(attr_set.rule, ctx):
            continue
        for pair in attr_set.pairs:
            if pair.value is None:
                continue
            if overwrite or pair.name not in result:
                result[pair.name] = pair.value
    return result
