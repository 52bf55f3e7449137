"""Migration files that are Go templates: gobuffalo/pop names its SQL migrations as golang-migrate
does, and renders each with Go's text/template before it runs it, with its connection's details as
the data (supabase/auth writes `ALTER TABLE {{ index .Options "Namespace" }}.users`, and its
migrate command sets the option from its configuration). The values come from the program that
runs pop: the user gives them (`--var Namespace=auth`, `vars:` in the config), and a file whose
actions are all such lookups (`{{ index .Options "Name" }}`, `{{ .Options.Name }}`) is rendered
with them. Where the module requires pop, a file with any other action, or a lookup of a value
not given, is skipped with the action and its line, not failed as a syntax error at `{`.
text/template reads the whole file, strings and comments too, so an action is any `{{` ... `}}`.
Without pop in the module, `{{` is the SQL's own (a literal's text), and golang-migrate runs the
file as it is.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from pathlib import Path

from migration_check.errors import read_utf8
from migration_check.git_command import git_succeeds
from migration_check.model import Migration, Script

# gobuffalo/pop, and Ory's fork with the migrator of ory/x (popx), which renders files the same way.
POPS = ("github.com/gobuffalo/pop", "github.com/ory/pop", "github.com/ory/x")


def template_action(text: str) -> tuple[int, str] | None:
    """(line, action) of the first Go template action in the text, or None."""
    start = text.find("{{")
    if start == -1:
        return None
    end = text.find("}}", start)
    action = text[start:end + 2] if end != -1 else "{{"
    return text.count("\n", 0, start) + 1, " ".join(action.split())


def skip_reason(text: str, directory: Path) -> str | None:
    """Why a file that is a Go template pop renders is not replayed, or None."""
    found = template_action(text)
    if found is None or not requires_pop(directory):
        return None
    line, action = found
    return (f"not replayed: line {line} is a Go template action, {action}, which gobuffalo/pop fills in when it"
            " runs the file (the module requires pop); its value is the running program's")


def render(text: str, values: Mapping[str, str]) -> tuple[str | None, tuple[int, str] | None]:
    """The text as pop renders it where every action looks up one of its options and `values`
    gives each (None otherwise), and the line and name of the first option looked up that `values`
    lacks."""
    pieces = []
    position = 0
    missing = None
    while (start := text.find("{{", position)) != -1:
        end = text.find("}}", start)
        name = _option(text[start + 2:end]) if end != -1 else None
        if name is None:
            return None, None
        if name not in values:
            missing = missing or (text.count("\n", 0, start) + 1, name)
        pieces += [text[position:start], values.get(name, "")]
        position = end + 2
    return (None, missing) if missing else ("".join(pieces) + text[position:], None)


def _option(action: str) -> str | None:
    """The option an action prints (`index .Options "Name"`, `.Options.Name`), or None for any
    other action (a trim marker, a condition, a pipeline)."""
    words = action.split()
    if words[:2] == ["index", ".Options"] and len(words) == 3 and len(words[2]) > 2 \
            and words[2][0] == words[2][-1] and words[2][0] in "\"`" and "\\" not in words[2]:
        return words[2][1:-1]
    if len(words) == 1 and words[0].startswith(".Options.") and words[0][len(".Options."):].isidentifier():
        return words[0][len(".Options."):]
    return None


@functools.lru_cache(maxsize=16)
def requires_pop(directory: Path) -> bool:
    """Whether a go.mod that git tracks in the directory's repository requires pop itself: a
    requirement marked `// indirect` is a dependency's (pocket-id's golang-migrate migrations, its
    go.mod holding ory/pop and ory/x as indirect ones, were read as pop's)."""
    patterns = [argument for pop in POPS for argument in ("-e", pop)]
    return git_succeeds(directory, "grep", "-q", "-F", "(", *patterns, ")", "--and", "--not", "-e", "// indirect",
                        "--", ":/go.mod", ":/**/go.mod", timeout=30)


def templates_rendered(migration: Migration, directory: Path, values: Mapping[str, str]) -> Migration:
    """The migration with its scripts that are Go templates pop renders rendered with `values`, or
    not replayed where they cannot be: the up (and so the migration), or the rollback alone."""
    up, up_reason = _rendered(migration.up, directory, values)
    down, down_reason = _rendered(migration.down, directory, values)
    return dataclasses.replace(migration, up=up, down=down, skip_reason=migration.skip_reason or up_reason,
                               down_skip_reason=migration.down_skip_reason or down_reason)


def _rendered(script: Script | None, directory: Path, values: Mapping[str, str]) -> tuple[Script | None, str | None]:
    """The script rendered, or as it is with why it is not replayed, where it (or one of the files
    it is made of) is a template."""
    if script is None:
        return None, None
    if script.parts:  # (each part is read when it runs: not rendered)
        texts = [read_utf8(part) for part in script.parts]
        return script, next((reason for text in texts if (reason := skip_reason(text, directory))), None)
    reason = skip_reason(script.sql, directory)
    if reason is None:
        return script, None
    text, missing = render(script.sql, values)
    if text is not None:
        return dataclasses.replace(script, sql=text), None
    if missing is not None:
        line, name = missing
        return script, (f"not replayed: line {line} looks up the option {name} (a Go template action), which"
                        f" gobuffalo/pop fills in from the running program's connection details: give its value with"
                        f" --var {name}=VALUE (or vars: in the config)")
    return script, reason
