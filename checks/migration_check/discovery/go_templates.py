"""Migration files that are Go templates: gobuffalo/pop names its SQL migrations as golang-migrate
does, and renders each with Go's text/template before it runs it (supabase/auth writes `ALTER
TABLE {{ index .Options "Namespace" }}.users`). The values come from the program that runs pop,
so such a file cannot be replayed: where the module requires pop, a file with a template action
is skipped with the action and its line, not failed as a syntax error at `{`. text/template reads
the whole file, strings and comments too, so an action is any `{{` ... `}}`. Without pop in the
module, `{{` is the SQL's own (a literal's text), and golang-migrate runs the file as it is.
"""

from __future__ import annotations

import dataclasses
import functools
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


@functools.lru_cache(maxsize=16)
def requires_pop(directory: Path) -> bool:
    """Whether a go.mod that git tracks in the directory's repository requires pop."""
    patterns = [argument for pop in POPS for argument in ("-e", pop)]
    return git_succeeds(directory, "grep", "-q", "-F", *patterns, "--", ":/go.mod", ":/**/go.mod", timeout=30)


def templates_skipped(migration: Migration, directory: Path) -> Migration:
    """The migration with its scripts that are Go templates pop renders not replayed: the up (and
    so the migration), or the rollback alone."""
    return dataclasses.replace(
        migration,
        skip_reason=migration.skip_reason or _template_reason(migration.up, directory),
        down_skip_reason=migration.down_skip_reason or _template_reason(migration.down, directory))


def _template_reason(script: Script | None, directory: Path) -> str | None:
    """Why a script is not replayed, where it (or one of the files it is made of) is a template."""
    if script is None:
        return None
    texts = [read_utf8(part) for part in script.parts] or [script.sql]
    return next((reason for text in texts if (reason := skip_reason(text, directory))), None)
