"""Alembic (SQLAlchemy): Python revision files in the script directory's `versions/`, ordered by
the revision graph their `down_revision`s draw.

Rules, as Alembic reads and runs them (alembic/script/base.py, script/revision.py,
runtime/migration.py):
- Every `*.py` file directly in a version location but `__init__.py` and editors' `.#` files is
  a revision; Alembic imports each, of every location `version_locations` lists, as one history.
  One that declares no `revision` (and whose name is not a hex id, the 0.1 convention) makes every
  command fail: "Could not determine revision id from filename".
- The order is the graph's: from the base (`down_revision = None`) to the heads; a merge revision
  names several down revisions, `depends_on` orders across branches. A `down_revision` no file
  declares breaks every command; two heads make `alembic upgrade head` refuse to run ("Multiple
  head revisions are present"), unless the project names its branches (`branch_labels`).
- `upgrade()` runs forward, `downgrade()` backward. On PostgreSQL the default env.py runs every
  pending revision in one transaction (`transaction_per_migration=True` gives each its own);
  `op.get_context().autocommit_block()` commits it, runs its statements outside, and begins again.
- The history table is `alembic_version`: one row per head.

What the functions send is read from the file, never by running it (alembic_reading.py), and
written by Alembic's own operations for PostgreSQL (alembic_sql.py).
"""

from __future__ import annotations

import ast
import re
import uuid
import warnings
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from migration_check.discovery import bookkeeping
from migration_check.discovery.alembic_config import env_py, module_roots, script_directory
from migration_check.discovery.alembic_histories import Revision, alternative_histories
from migration_check.discovery.base import Detection, Discovery, Layout, counted, read_head
from migration_check.discovery.listing import as_written_beside, candidate_files, per_discovery, the_others
from migration_check.errors import read_utf8
from migration_check.model import Migration, Refusal, RollbackPolicy, Transaction

if TYPE_CHECKING:
    from migration_check.discovery.alembic_reading import RevisionFile

CODE = "an Alembic migration the replay cannot run"
MOST_BYTES = 16 << 20  # a squashed revision of 7,000 lines is 300 KB
LEGACY = re.compile(r"([a-f0-9]+)\.py$")  # Alembic 0.1: the revision id is the file name
NO_REVISION = ("Alembic refuses every command: \"Could not determine revision id from filename {name}. Be sure the"
               " 'revision' variable is declared inside the script\"")
MISSING = "Alembic refuses every command: \"Revision {missing} referenced from {revision} is not present\""
HEADS = ("`alembic upgrade head` refuses to run: \"Multiple head revisions are present\" ({heads}); "
         "`alembic merge heads` joins them")
CYCLE = "Alembic refuses every command: its revisions form a cycle ({revisions})"
BRANCH_NAME = ("Alembic refuses every command: \"Branch name '{label}' in revision {revision} already used by"
               " revision {other}\"")


class AlembicLayout(Layout):
    name = "alembic"
    description = "Alembic: Python revision files (upgrade/downgrade), ordered by their down_revision graph"
    default_rollbacks = RollbackPolicy.REQUIRED
    conventional_dirs = ("alembic/versions", "migrations/versions", "db/migrations/versions", "app/alembic/versions",
                         "src/alembic/versions")
    naming_pattern = r"^[^/]+\.py$"
    naming_hint = "a Python revision file (any name Alembic loads: *.py)"
    strict_naming_pattern = r"^[0-9a-f]{12}_[a-z0-9_]+\.py$"
    strict_naming_hint = "<revision>_<slug>.py (alembic revision -m)"
    declared_order = True
    identity = "text"  # the revision id, as alembic_version records it
    bookkeeping = bookkeeping.ALEMBIC
    transaction_how = "runs every pending revision in one transaction (the default env.py on PostgreSQL)"
    transaction_each_how = "runs each revision in a transaction of its own (transaction_per_migration in env.py)"
    transaction_opt_out = "run it outside one: `with op.get_context().autocommit_block():` around the statement"

    def history_tables(self, directory: Path) -> frozenset[str]:
        """`alembic_version`, and the table env.py names instead (`context.configure(version_table=
        "...", version_table_schema="...")`, as written out): drift leaves it out."""
        named = env_py(directory).version_table
        return super().history_tables(directory) | ({named} if named else set())

    def other_locations(self, directory: Path) -> list[Path]:
        return the_others(script_directory(directory).versions, directory)

    def detect(self, directory: Path) -> Detection | None:
        marked = [path for path in _revision_files(directory) if _marked(path)]
        if not marked:
            return None
        locations = len(script_directory(directory).versions)
        across = f" across {locations} version locations" if locations > 1 else ""
        return Detection(score=88, reason=f"{counted(len(marked), 'Alembic revision file')} (revision, down_revision)"
                                          f"{across}")

    def discover(self, directory: Path) -> Discovery:
        files, refusals = _revisions(directory, revision_of)
        ordered, graph_refusals = _ordered(files)
        refusals += graph_refusals
        env = env_py(directory)
        migrations = [_migration(found, index, Transaction.NONE if env.autocommit else Transaction.WRAPPED)
                      for index, found in enumerate(ordered)]
        histories = alternative_histories(migrations, [
            Revision(found.revision, (*found.names("down_revision"), *found.names("depends_on")),
                     found.names("branch_labels"))
            for found in ordered if found.revision is not None and found.problem is None])
        one_transaction = not env.transaction_per_migration and not env.autocommit
        refusals.sort(key=lambda refusal: (str(refusal.path), refusal.line))  # one history case per file
        return Discovery(histories.migrations, refusals=refusals, pending_in_one_transaction=one_transaction,
                         histories_reason=histories.reason)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        # The graph alone says which revision the new one follows: no function is evaluated.
        ordered, _ = _ordered(_revisions(directory, _header_of)[0])
        heads = [found.revision or found.path.stem for found in ordered]
        down = repr(heads[-1]) if heads else "None"
        revision = uuid.uuid4().hex[-12:]
        return {directory / f"{revision}_{name}.py": "\n".join([
            f'"""{name.replace("_", " ")}', "", f"Revision ID: {revision}", f"Revises: {heads[-1] if heads else ''}",
            f"Create Date: {now.isoformat(sep=' ')}", "", '"""', "from alembic import op", "import sqlalchemy as sa", "",
            f"revision = {revision!r}", f"down_revision = {down}", "branch_labels = None", "depends_on = None", "", "",
            "def upgrade() -> None:", '    op.execute("SELECT 1")', "", "",
            "def downgrade() -> None:", '    op.execute("SELECT 1")', "",
        ])}


def _marked(path: Path) -> bool:
    """Whether the module binds `down_revision` at its top and defines `upgrade`, as revision
    files do (a script that rewrites revision files only names them in its strings)."""
    if "down_revision" not in read_head(path) or not path.stat().st_size < MOST_BYTES:
        return False
    module = _parsed(path)[1]
    if module is None:
        return False
    bound = {target.id for node in module.body if isinstance(node, ast.Assign | ast.AnnAssign)
             for target in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(target, ast.Name)}
    return "down_revision" in bound and any(isinstance(node, ast.FunctionDef) and node.name == "upgrade"
                                            for node in module.body)


@per_discovery
def _parsed(path: Path) -> tuple[str, ast.Module | None]:
    """The file's text and its syntax tree, read once for detection and discovery both (None where
    it does not parse: reading the revision says why)."""
    text = read_utf8(path)
    try:
        return text, ast.parse(text, filename=str(path))
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # untrusted text
        return text, None


def _revisions(directory: Path, read: Callable[[Path], RevisionFile]) -> tuple[list[RevisionFile], list[Refusal]]:
    """The directory's revision files as `read` reads them, and those Alembic cannot place."""
    files: list[RevisionFile] = []
    refusals: list[Refusal] = []
    for path in _revision_files(directory):
        found = read(path)
        if found.revision is None and (legacy := LEGACY.match(path.name)) and found.problem is None:
            found.values["revision"] = (legacy[1], 1)
        if found.revision is None and found.problem is None:
            refusals.append(Refusal(path, 1, NO_REVISION.format(name=path.name)))
            continue
        files.append(found)
    return files, refusals


def _revision_files(directory: Path) -> list[Path]:
    """The revision files of every version location of `directory`'s configuration."""
    locations = as_written_beside(directory, script_directory(directory).versions)
    return [path for location in locations for path in candidate_files(location)
            if path.suffix == ".py" and path.name != "__init__.py" and not path.name.startswith(".#")]


@per_discovery
def revision_of(path: Path) -> RevisionFile:
    # SQLAlchemy and Alembic load only for an Alembic project: a third of a second of every other run.
    from migration_check.discovery.alembic_reading import read_revision
    return read_revision(path, *_parsed(path), roots=module_roots(path.parent), env=env_py(path.parent))


def _header_of(path: Path) -> RevisionFile:
    from migration_check.discovery.alembic_reading import read_revision
    return read_revision(path, *_parsed(path), functions=False)


def _ordered(files: list[RevisionFile]) -> tuple[list[RevisionFile], list[Refusal]]:
    """The files in the order `alembic upgrade heads` runs them, and what Alembic refuses of the
    graph. Where it refuses the graph, the files that stand in it are still ordered: those whose
    down revisions are missing are read as bases, a cycle leaves the file-name order."""
    from alembic.script.revision import CycleDetected, Revision, RevisionError, RevisionMap
    by_revision = {found.revision: found for found in files if found.revision is not None}
    placed = [found for found in files if found.revision is not None and found.problem is None]
    refusals: list[Refusal] = []
    known = {found.revision for found in placed}
    for found in placed:
        for missing in (r for r in (*found.names("down_revision"), *found.names("depends_on")) if r not in known):
            refusals.append(Refusal(found.path, found.line_of("down_revision"),
                                    MISSING.format(missing=missing, revision=found.revision)))
    labels = _branch_labels(placed, known, refusals)
    revisions = [Revision(found.revision, _kept(found.names("down_revision"), known) or None,
                          dependencies=_kept(found.names("depends_on"), known) or None,
                          branch_labels=labels.get(found.revision) or None)
                 for found in placed if found.revision is not None]
    graph = RevisionMap(lambda: revisions)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a revision in two files: the later one counts, as there
            order = [revision.revision for revision in reversed(list(graph.iterate_revisions("heads", "base")))]
            heads = list(graph.heads)
    except CycleDetected as cycle:
        refusals.append(Refusal(placed[0].path, 1, CYCLE.format(revisions=", ".join(cycle.revisions))))
        return placed + [found for found in files if found not in placed], refusals
    except RevisionError as error:  # what else the graph refuses: still a verdict, never a crash
        refusals.append(Refusal(placed[0].path, 1, f"Alembic refuses every command: \"{error}\""))
        return placed + [found for found in files if found not in placed], refusals
    # Where a down revision is missing, Alembic refuses everything already; its heads are moot.
    if len(heads) > 1 and not refusals and not any(found.names("branch_labels") for found in placed):
        for head in heads:
            found = by_revision[head]
            refusals.append(Refusal(found.path, found.line_of("down_revision"), HEADS.format(heads=", ".join(heads))))
    ordered = [by_revision[revision] for revision in order]
    return ordered + [found for found in files if found not in ordered], refusals


def _branch_labels(placed: list[RevisionFile], known: set[str | None],
                   refusals: list[Refusal]) -> dict[str | None, tuple[str, ...]]:
    """Each revision's branch labels that Alembic accepts; one that names a revision, or that an
    earlier revision took, is refused at its line, as Alembic refuses it (script/revision.py,
    _map_branch_labels), and left out so that the rest is still ordered."""
    taken: dict[str, str | None] = {name: name for name in known if name is not None}
    accepted: dict[str | None, tuple[str, ...]] = {}
    for found in placed:
        kept = []
        for label in found.names("branch_labels"):
            if label in taken:
                refusals.append(Refusal(found.path, found.line_of("branch_labels"), BRANCH_NAME.format(
                    label=label, revision=found.revision, other=taken[label])))
                continue
            taken[label] = found.revision
            kept.append(label)
        accepted[found.revision] = tuple(kept)
    return accepted


def _kept(names: tuple[str, ...], known: set[str | None]) -> tuple[str, ...]:
    return tuple(name for name in names if name in known)


def _migration(found: RevisionFile, index: int, transaction: Transaction) -> Migration:
    path = found.path
    stem = path.stem
    version = found.revision or stem
    name = stem[len(version):].lstrip("_") if stem.startswith(version) else stem
    upgrade, downgrade = found.functions.get("upgrade"), found.functions.get("downgrade")
    skip = None
    if found.problem is not None:
        skip = f"{CODE}: {found.problem[1]}"
    elif upgrade is None:
        skip = f"{CODE}: it has no upgrade() (Alembic fails on it: \"module has no attribute 'upgrade'\")"
    elif upgrade.code is not None:
        skip = upgrade.why_not_sql(CODE, "upgrade")
    replayed = skip is None and upgrade is not None
    return Migration(
        version=version, name=name, label=stem, sort_key=(index,),
        up=upgrade.script(path, transaction) if replayed and upgrade is not None else None,
        down=downgrade.script(path, transaction) if replayed and downgrade and downgrade.code is None else None,
        files=(path,), skip_reason=skip,
        down_skip_reason=downgrade.why_not_sql(CODE, "downgrade") if replayed and downgrade and downgrade.code else None,
    )
