"""The repository's SQL files outside the migrations that create a given table: a baseline schema;
the files outside them that create an extension or a schema (a setup script, an image's init
script); and the application's code that makes the schema from its models and stamps Alembic's
revision.

Many projects start their migrations from a schema kept elsewhere (`docker/volumes/db/init/
schema.sql`, `db/structure.sql`, an init script of their compose file): the first migration then
alters a table no migration creates, and the apply fails. Naming the file that creates the table
turns that failure into a one-line fix (`--setup FILE`). Only files git tracks are read (what the
pull request holds, nothing the checkout's tools left behind), up to a size, and only those whose
text names the table at all are parsed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from migration_check.discovery.base import read_sql
from migration_check.discovery.databases import OTHER_DATABASES
from migration_check.discovery.path_words import path_words
from migration_check.errors import FileError, InfrastructureError
from migration_check.git_command import git_process, run_git
from migration_check.model import Script
from migration_check.sql import Statement, SyntaxProblem, split_script
from migration_check.sql.extensions import extension_creations
from migration_check.sql.objects import CREATED, touches

MAX_BYTES = 4 << 20
MAX_FILES = 3
GIT_TIMEOUT = 30


def files_creating(repo_root: Path, table: str, migrations: Path,
                   kinds: tuple[str, ...] = ("table",)) -> list[tuple[Path, int]]:
    """(file, line) of the first statement creating table `table` (unqualified, as PostgreSQL
    folds it), or an object of that name of one of `kinds`, in each tracked .sql file outside
    `migrations`; at most a few files. A file whose path names another database is one only where
    none else is: ory/keto's networks table is made by `..._networks.postgres.up.sql` beside its
    `.cockroach.`, `.mysql.` and `.sqlite3.` twins, and the first was named to run."""
    found: list[tuple[Path, int]] = []
    for path in sorted(_tracked_sql(repo_root), key=lambda path: _for_another_database(path, repo_root)):
        if path.is_relative_to(migrations) or not path.is_file() or path.stat().st_size > MAX_BYTES:
            continue
        line = _creates(path, table, kinds)
        if line is not None:
            found.append((path, line))
            if len(found) == MAX_FILES:
                break
    if found and not _for_another_database(found[0][0], repo_root):
        found = [place for place in found if not _for_another_database(place[0], repo_root)]
    return found


def _for_another_database(path: Path, repo_root: Path) -> bool:
    return any(word in OTHER_DATABASES for word in path_words(path.relative_to(repo_root).as_posix()))


def _tracked_sql(repo_root: Path) -> list[Path]:
    try:
        listed = run_git(repo_root, "ls-files", "-z", "--", "*.sql", "*.SQL", timeout=GIT_TIMEOUT)
    except InfrastructureError:  # not a repository, or no git: no baseline to name
        return []
    names = listed.decode("utf-8", errors="replace").split("\0")
    return [repo_root / name for name in sorted(names) if name]


def _creates(path: Path, table: str, kinds: tuple[str, ...]) -> int | None:
    try:
        text = read_sql(path)
    except FileError:
        return None
    if table not in text.lower():
        return None
    creating = statement_creating(Script(path, text), table, kinds)
    return creating.line if creating is not None else None


def statement_creating(script: Script, table: str, kinds: tuple[str, ...] = ("table",)) -> Statement | None:
    """The first statement of `script` that creates table `table` (unqualified), or an object of
    that name of one of `kinds`; None when none does or the script does not parse."""
    try:
        statements = split_script(script)
    except SyntaxProblem:
        return None
    return next((statement for statement in statements
                 if any(t.verb == CREATED and t.kind in kinds and t.key == (table,) for t in touches(statement.sql))),
                None)


def files_creating_named(repo_root: Path, kind: str, name: str, migrations: Path) -> list[tuple[Path, int]]:
    """(file, line) where a tracked file outside `migrations` creates the extension or schema
    `name` (`kind`: "extension" or "schema"), at most a few: the shell script, compose file or image
    init script that prepares the project's databases (FlogFr/FlashCard's bin/setup_database.sh runs
    `psql -c 'CREATE EXTENSION pg_trgm;'`; measure-sh/measure's self-host script makes schema
    measure). Any text file can hold the command, so git finds the words; a SQL file counts only
    where PostgreSQL's parser reads that creation there."""
    words = rf"create[[:space:]]+{kind}[[:space:]]+(if[[:space:]]+not[[:space:]]+exists[[:space:]]+)?\"?"
    try:
        inside = migrations.resolve().relative_to(repo_root.resolve()).as_posix()
    except ValueError:
        inside = ""
    excluded = [f":(exclude){inside}"] if inside not in ("", ".") else []
    pattern = words + name + r'\"?([^[:alnum:]_-]|$)'
    # In a SQL file, the words may be in a comment or a string.
    return _grep_places(repo_root, ["-i", "-e", pattern, "--", ".", *excluded],
                        lambda path, _text: path.suffix.lower() != ".sql" or _sql_creates(path, kind, name))


def _sql_creates(path: Path, kind: str, name: str) -> bool:
    if kind == "schema":
        return _creates(path, name, ("schema",)) is not None
    try:
        return extension_creations([read_sql(path)])[name] > 0
    except FileError:
        return False


def schema_from_models(repo_root: Path) -> tuple[list[tuple[Path, int]], tuple[Path, int] | None]:
    """Where the application makes its schema from its models (`metadata.create_all(...)`, at most a
    few places) and where it stamps Alembic's revision (`stamp(...)`), outside the tests: such a
    project's migrations start from that schema, never from an empty database (getredash/redash's
    `create_tables`, Netflix/lemur's manage.py, buildbot's model.py, indico's `db prepare`)."""
    calls = _python_calls(repo_root, r"\.create_all\(")
    stamps = _python_calls(repo_root, r"(^|[^[:alnum:]_])stamp\(")
    if not calls or not stamps:
        return [], None
    beside = [stamp for stamp in stamps if any(stamp[0] == path for path, _ in calls)]
    return calls, (beside or stamps)[0]


def _python_calls(repo_root: Path, pattern: str) -> list[tuple[Path, int]]:
    return _grep_places(repo_root, ["-e", pattern, "--", "*.py", ":(exclude)*test*"],
                        lambda _path, text: not text.lstrip().startswith(("def ", "#")))


def _grep_places(repo_root: Path, arguments: list[str], keep: Callable[[Path, str], bool]) -> list[tuple[Path, int]]:
    """(file, line) of the first line `git grep -E` finds in each tracked file, where `keep` takes
    it, at most a few files; none without git."""
    try:
        found = git_process(repo_root, "grep", "-n", "-I", "-E", *arguments, timeout=GIT_TIMEOUT)
    except InfrastructureError:
        return []
    places: list[tuple[Path, int]] = []
    for line in found.stdout.decode("utf-8", errors="replace").splitlines():
        name, number, text = line.split(":", 2)
        path = repo_root / name
        if any(known == path for known, _ in places) or not keep(path, text):
            continue
        places.append((path, int(number)))
        if len(places) == MAX_FILES:
            break
    return places
