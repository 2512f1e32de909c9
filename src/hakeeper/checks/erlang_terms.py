"""Reading Erlang terms as `rabbitmqctl` prints them without `--formatter json`.

Lists become lists, tuples tuples, atoms/strings/binaries str, integers int. Enough for
`cluster_status` and `status` of RabbitMQ 3.7 and earlier; not a full Erlang reader.
"""

from __future__ import annotations

import re

from hakeeper.checks.capture import ProbeOutputError

Term = str | int | float | list["Term"] | tuple["Term", ...]

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<open>[\[{])|(?P<close>[\]}])|(?P<comma>,)
    | <<"(?P<binary>(?:[^"\\]|\\.)*)">>
    | "(?P<string>(?:[^"\\]|\\.)*)"
    | '(?P<quoted>(?:[^'\\]|\\.)*)'
    | (?P<number>-?\d+(?:\.\d+)?(?:e-?\d+)?)
    | (?P<atom>[a-z][A-Za-z0-9_@.\-]*)
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip().removesuffix(".")
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise ProbeOutputError(f"unexpected {text[pos : pos + 20].strip()!r} in Erlang term")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind) or ""))
        pos = match.end()
    return out


def parse_term(text: str) -> Term:
    """One Erlang term; ProbeOutputError if unbalanced, truncated or something else."""
    tokens = _tokens(text)
    if not tokens:
        raise ProbeOutputError("empty Erlang term")
    term, pos = _term(tokens, 0)
    if pos != len(tokens):
        raise ProbeOutputError("trailing text after the Erlang term")
    return term


def _term(tokens: list[tuple[str, str]], pos: int) -> tuple[Term, int]:
    if pos >= len(tokens):
        raise ProbeOutputError("truncated Erlang term")
    kind, value = tokens[pos]
    if kind == "open":
        closing = "]" if value == "[" else "}"
        items: list[Term] = []
        pos += 1
        while True:
            if pos >= len(tokens):
                raise ProbeOutputError("truncated Erlang term")
            if tokens[pos] == ("close", closing) and not items:
                pos += 1
                break
            item, pos = _term(tokens, pos)
            items.append(item)
            if pos >= len(tokens):
                raise ProbeOutputError("truncated Erlang term")
            if tokens[pos] == ("comma", ","):
                pos += 1
                continue
            if tokens[pos] == ("close", closing):
                pos += 1
                break
            raise ProbeOutputError(f"unexpected {tokens[pos][1]!r} in Erlang term")
        return (items if closing == "]" else tuple(items)), pos
    if kind == "number":
        return (float(value) if "." in value or "e" in value else int(value)), pos + 1
    if kind in ("atom", "string", "binary", "quoted"):
        return value, pos + 1
    raise ProbeOutputError(f"unexpected {value!r} in Erlang term")


def proplist(term: Term) -> dict[str, Term]:
    """`[{key, value}, ...]` as a dict; other entries are ignored."""
    out: dict[str, Term] = {}
    if isinstance(term, list):
        for item in term:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                out[item[0]] = item[1]
    return out
