"""Migration files that are templates the project renders before its runner runs them: a
`{{ ... }}` or `{% ... %}` outside every SQL string and comment, where PostgreSQL cannot read the
file as it is. mattermost/focalboard's code renders its mattermost/morph migrations with Go's
text/template (`CREATE TABLE IF NOT EXISTS {{.prefix}}blocks`, `{{if .postgres}}...{{end}}`) with
the settings of the running program: replayed as they were written, all 40 failed with a syntax
error at `{` that its runner never meets. A Go template is rendered with the values given (`--var
prefix= --var postgres=true`, go_template_text.py), where it reads nothing but them; else the script is
not replayed, and its case says the action, its line, and the values the template reads. (pop's
templates are go_templates.py's; they are rendered before this looks.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from pglast import parser

from migration_check.discovery.go_template_text import render
from migration_check.model import Migration, Script

_LONGEST = 60
_MOST_LOOKS = 50  # `{{` inside the SQL's strings, passed over before giving up


def template_in_code(text: str) -> tuple[int, str] | None:
    """(line, action) of the first `{{` or `{%` outside the SQL's strings and comments, or None."""
    position, looked = 0, 0
    while looked < _MOST_LOOKS:
        start = min((found for found in (text.find("{{", position), text.find("{%", position)) if found != -1),
                    default=-1)
        if start == -1:
            return None
        looked += 1
        if _in_code(text[:start + 2]):
            end = text.find("}}" if text[start + 1] == "{" else "%}", start)
            action = " ".join(text[start:end + 2 if end != -1 else start + 2].split())
            if len(action) > _LONGEST:
                action = action[:_LONGEST - 3] + "..."
            return text.count("\n", 0, start) + 1, action
        position = start + 2
    return None


def _in_code(prefix: str) -> bool:
    """Whether the two characters that end `prefix` are read as SQL code: the lexer gives the brace
    as a character of its own. Only the text before them is read: what follows may be the
    template's (`{{ f "a" "" }}` holds a zero-length quoted name, which the lexer refuses); text
    that ends inside a string or a comment does not lex, or ends in a token of its own."""
    try:
        tokens = parser.scan(prefix)
    except parser.ParseError:
        return False
    return (len(tokens) >= 2 and tokens[-2].name == "UNKNOWN" and tokens[-2].start == len(prefix) - 2
            and tokens[-1].start == len(prefix) - 1)


def templates_unrendered(migration: Migration, values: Mapping[str, str]) -> Migration:
    """The migration with its scripts that are templates rendered with the values given, where the
    template reads some of them and nothing this cannot render; else not replayed: its up (and so
    itself) or its rollback."""
    up, up_reason = _rendered(migration.up, values)
    down, down_reason = _rendered(migration.down, values)
    if up is migration.up and down is migration.down and up_reason is None and down_reason is None:
        return migration
    return dataclasses.replace(migration, up=up, down=down, skip_reason=migration.skip_reason or up_reason,
                               down_skip_reason=migration.down_skip_reason or down_reason)


def _rendered(script: Script | None, values: Mapping[str, str]) -> tuple[Script | None, str | None]:
    if script is None or script.parts:
        return script, None
    found = template_in_code(script.sql)
    if found is None:
        return script, None
    line, action = found
    fills = "which the project's code fills in before its runner runs the file"
    rendered = render(script.sql, values) if action.startswith("{{") else None
    if rendered is None:
        return script, (f"not replayed: line {line} is a template action, {action}, outside any SQL string: PostgreSQL"
                        f" cannot read the file as it is written, so the project's code fills it in before its runner"
                        f" runs it, with values only the running program has")
    if rendered.text is not None and (values or not rendered.names) and template_in_code(rendered.text) is None:
        return dataclasses.replace(script, sql=rendered.text), None
    if rendered.line is not None:
        return script, (f"not replayed: line {rendered.line} is a template action, {rendered.action}, {fills} with"
                        f" {rendered.why}: not rendered here")
    reads = ", ".join(rendered.names) or "none"
    return script, (f"not replayed: line {line} is a template action, {action}, outside any SQL string, {fills}: give"
                    f" the values its template reads ({reads}) with --var NAME=VALUE (or vars: in the config)")
