"""Migration files that are Go templates: gobuffalo/pop names its SQL migrations as golang-migrate
does, and renders each with Go's text/template before it runs it (supabase/auth writes `ALTER
TABLE {{ index .Options "Namespace" }}.users`). The values come from the program that runs pop,
so such a file cannot be replayed: where the module requires pop, a file with a template action
is skipped with the action and its line, not failed as a syntax error at `{`. text/template reads
the whole file, strings and comments too, so an action is any `{{` ... `}}`. Without pop in the
module, `{{` is the SQL's own (a literal's text), and golang-migrate runs the file as it is.
"""

from __future__ import annotations

import functools
from pathlib import Path

from migration_check.git_command import git_succeeds

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
