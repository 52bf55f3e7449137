"""Setup scripts: SQL run once, before the first migration, on the throwaway database.

A project's migrations often expect objects its platform provides: Supabase's `auth.users`,
`auth.uid()` and the `authenticated` role, an extension, a schema made by an init container. The
runner executes the setup scripts before the first migration and takes the baseline schema snapshot
after them, so their objects are part of "before" and never count as something a rollback left.

`--setup` takes file paths or preset names; presets are `<name>.sql` files in this package. The
`supabase` preset is added automatically when the layout is detected as `supabase`.
"""

from __future__ import annotations

from collections import Counter
from importlib import resources
from pathlib import Path

from migration_check.discovery.base import read_sql
from migration_check.errors import UsageError
from migration_check.model import Project, Script
from migration_check.sql.extensions import extension_creations
from migration_check.sql.keywords import reserved_in

# Layouts whose projects always get a preset, by format name.
AUTOMATIC = {"supabase": "supabase"}
# The extensions each preset creates where the server has them (in a DO block, which the choice of
# a local installation cannot read): Supabase preinstalls pgcrypto and uuid-ossp, and migrations
# call their functions unqualified (usebasejump/basejump's gen_random_bytes).
PRESET_EXTENSIONS = {"supabase": frozenset({"pgcrypto", "uuid-ossp"})}


def available_presets() -> list[str]:
    return sorted(entry.name[: -len(".sql")] for entry in resources.files(__package__).iterdir() if entry.name.endswith(".sql"))


def setup_names(project: Project, requested: list[str] | None) -> list[str]:
    """What the setup is made of, as asked (file paths, preset names), then the layout's automatic preset."""
    automatic = AUTOMATIC.get(project.format)
    return [*(requested or ()), *([automatic] if automatic else [])]


def setup_scripts(project: Project, requested: list[str] | None, within_repository: bool = True) -> list[Script]:
    """The setup scripts for `project`, in order: each of `requested` (a file path, relative to the
    working directory or the repository root, or a preset name), then the layout's automatic
    preset. The project's own init scripts come first because presets create only what is missing,
    while init scripts (Supabase's own) create roles and schemas without IF NOT EXISTS (one that
    needs what the preset makes runs again after it: replay/rebuild.py). Each script runs once,
    even when asked for twice."""
    scripts: list[Script] = []
    seen: set[Path] = set()
    for name in setup_names(project, requested):
        script = _script(project, name, within_repository)
        if script.path not in seen:
            seen.add(script.path)
            scripts.append(script)
    return scripts + project.setup


def wanted_extensions(project: Project, setup: list[Script]) -> tuple[Counter[str], frozenset[str]]:
    """The extensions the setup scripts and the migrations create (and how many scripts create
    each), then those the presets would: they steer the choice among local installations (the
    embedded build has no contrib, so no pgcrypto; Debian's PostgreSQL 15 has no pgvector). A word
    a newer PostgreSQL reserves, which a script uses as a name, counts as one such extension
    (sql/keywords.py): an installation older than that has it."""
    presets = [PRESET_EXTENSIONS.get(s.path.stem, frozenset()) for s in setup if is_preset(s)]
    scripts = [*setup, *(m.up for m in project.migrations if m.up is not None)]
    created = extension_creations(s.sql for s in scripts) + reserved_in(s.sql for s in scripts)
    return created, frozenset().union(*presets, project.setup_extensions) - set(created)


def is_preset(script: Script) -> bool:
    preset = resources.files(__package__).joinpath(script.path.name)
    return script.path.suffix == ".sql" and preset.is_file() and script.path.parent.name == "presets"


def setup_name(script: Script, project: Project) -> str:
    """How a finding names a setup script: "the supabase setup", "the setup script db/roles.sql"."""
    if script in project.setup:
        return f"{project.format}'s own setup"
    if is_preset(script):
        return f"the {script.path.stem} setup"
    return f"the setup script {project.relative(script.path)}"


def _script(project: Project, requested: str, within_repository: bool) -> Script:
    path = _as_file(project, requested, within_repository)
    if path is not None:
        return Script(path, read_sql(path), root=project.repo_root.resolve())
    if requested in available_presets():
        preset = resources.files(__package__).joinpath(f"{requested}.sql")
        with resources.as_file(preset) as file:
            return Script(Path(file), read_sql(Path(file)))
    raise UsageError(
        f"--setup {requested}: no such file, and not a preset (presets: {', '.join(available_presets())})"
    )


def _as_file(project: Project, requested: str, within_repository: bool) -> Path | None:
    """A setup file. One the config names comes with the pull request, so it must be in the
    repository; one given on the command line is the user's own choice."""
    path = Path(requested)
    for candidate in ([path] if path.is_absolute() else [path, project.repo_root / path]):
        if candidate.is_file():
            if within_repository and not candidate.resolve().is_relative_to(project.repo_root.resolve()):
                raise UsageError(f"setup {requested}: {candidate.resolve()} is outside the repository;"
                                 " setup scripts named by the config are read only from the repository")
            return candidate.resolve()
    if path.suffix == ".sql" or "/" in requested:
        raise UsageError(f"--setup {requested}: no such file")
    return None
