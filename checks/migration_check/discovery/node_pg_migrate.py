"""node-pg-migrate (Node.js, PostgreSQL only): `<number>_<name>.js`, `.ts` or `.sql` files.

Rules, as node-pg-migrate reads and runs them (src/migration.ts, src/sqlMigration.ts,
src/utils/fileNameUtils.ts, src/utils/comparators.ts, src/runner.ts):
- Every file of the migrations directory is a migration, except those whose name starts with a
  dot. Its name must start with a number (a 17-digit one is a UTC time, `20200513070724505`, read
  as that moment's milliseconds), or node-pg-migrate stops ("Cannot determine numeric prefix"):
  a naming failure here. They run by that number, ties by name.
- A `.sql` file is split at its `-- Up Migration` and `-- Down Migration` comments (node-pg-migrate's
  own pattern: `^\\s*--[\\s-]*up\\s+migration`, any case): the up is what follows the first (the
  whole file without it), the down what follows the second (none without it: the migration cannot
  be rolled back).
- A `.js` or `.ts` module exports `up(pgm)` and `down(pgm)`. What they run is read from the module
  (js_reading): the SQL of `pgm.sql('...')` and of the builder's operations (pgm_operations.py),
  in order, which node-pg-migrate queues and runs after the function; `pgm.db.query('...')`, which
  runs at once, where nothing is queued before it; `pgm.noTransaction()` runs the migration outside
  a transaction; any other operation
  or code skips the migration, naming it. `exports.down = false` declares it irreversible; a
  module with no `down` has the one node-pg-migrate infers: the up's operations' inverses, last
  first (none where one has no inverse, `pgm.sql` among them).
- By default every pending migration runs in one transaction (`--single-transaction`).
- The history table is `pgmigrations`: a row per migration, named by its file name without the
  extension.
- A schema the project sets (`-s`/`--schema`, `--create-schema`, or `db.schema` in the `config`
  package's config/default.json, which wins over the flags): created where asked, then the
  session's search_path is that schema alone (runner.ts), before the first migration.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from tree_sitter import Node

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import (
    Detection,
    Discovery,
    Layout,
    counted,
    read_head,
    read_sql,
)
from migration_check.discovery.js_modules import none_outside_a_transaction, parsed, readable
from migration_check.discovery.js_reading import (
    FUNCTIONS,
    LANGUAGES,
    Export,
    Piece,
    Reading,
    exported,
    member_of,
    parameter_names,
    read_function,
)
from migration_check.discovery.js_values import Code, Values, arguments_of, sql_text, text_of
from migration_check.discovery.listing import candidate_files
from migration_check.discovery.orm_settings import configured_tables
from migration_check.discovery.pgm_config import package_running_it, runner_setup, schema_setting
from migration_check.discovery.pgm_operations import operation_sql
from migration_check.model import Migration, RollbackPolicy, Script, StrayFile, Transaction

PREFIX = re.compile(r"^(\d+)")
# node-pg-migrate's own markers (createMigrationCommentRegex): comments, not SQL, are searched.
UP_MARK = re.compile(r"^\s*--[\s-]*up\s+migration", re.IGNORECASE | re.MULTILINE)
DOWN_MARK = re.compile(r"^\s*--[\s-]*down\s+migration", re.IGNORECASE | re.MULTILINE)
CODE = "a node-pg-migrate migration the replay cannot run"
NO_INVERSE = "its down is the one node-pg-migrate infers from the up's operations, and one has no inverse"
DISABLED = "its down is disabled (`exports.down = false`): node-pg-migrate refuses to roll it back"


class NodePgMigrateLayout(Layout):
    name = "node-pg-migrate"
    description = "node-pg-migrate: <number>_<name>.js/.ts (pgm.sql, the builder's operations) or .sql with -- Up/Down Migration"
    default_rollbacks = RollbackPolicy.OPTIONAL
    conventional_dirs: ClassVar[tuple[str, ...]] = ("migrations",)
    naming_pattern = r"^\d+[^/]*$"
    naming_hint = "<number>_<name>.js, .ts or .sql (node-pg-migrate create NAME)"
    strict_naming_pattern = r"^\d{13}_[a-z0-9]+(-[a-z0-9]+)*\.(js|ts|sql)$"
    strict_naming_hint = "<milliseconds>_<kebab-name>.js (node-pg-migrate create, its default)"
    numeric_versions = True
    identity = "id"  # the history table records the file's name
    bookkeeping = bookkeeping.NODE_PG_MIGRATE
    transaction_how = "runs every pending migration in one transaction (--single-transaction, its default)"
    transaction_each_how = "runs each migration in a transaction of its own (--no-single-transaction)"
    transaction_opt_out = "run it outside one: call `pgm.noTransaction()` in the migration"

    def detect(self, directory: Path) -> Detection | None:
        numbered = [p for p in candidate_files(directory) if PREFIX.match(p.name)]
        marked = [p for p in numbered if readable(_marked)(p)]
        if marked:
            return Detection(score=89, reason=f"{counted(len(marked), 'node-pg-migrate migration')} (pgm, -- Up Migration)")
        # Plain SQL files are node-pg-migrate's too where the package that holds them runs it there
        # (kmnx/multitune: `"migrate": "node-pg-migrate up"`, 001_init.sql ...).
        runs = package_running_it(directory) if numbered else None
        if runs is None:
            return None
        return Detection(score=89, reason=f"{counted(len(numbered), 'file')} named <number>_<name> in the directory"
                                          f" node-pg-migrate runs ({runs})")

    def discover(self, directory: Path) -> Discovery:
        migrations: list[Migration] = []
        stray: list[StrayFile] = []
        for path in candidate_files(directory):
            if path.name.startswith("."):
                continue
            if not PREFIX.match(path.name):
                stray.append(StrayFile(path, f'node-pg-migrate stops: "Cannot determine numeric prefix for {path.name}"',
                                       refused=True))
                continue
            if path.suffix == ".sql":
                migrations.append(_sql_migration(path))
            elif path.suffix in LANGUAGES:
                migrations.append(_module_migration(path))
            else:
                stray.append(StrayFile(path, "node-pg-migrate would load it as a module and fail", refused=True))
        migrations.sort(key=lambda m: m.sort_key)
        in_one = none_outside_a_transaction(migrations)
        setup, setup_reason = runner_setup(directory)
        return Discovery(migrations, stray, pending_in_one_transaction=in_one, setup=setup, setup_reason=setup_reason)

    def history_tables(self, directory: Path) -> frozenset[str]:
        found = schema_setting(directory)  # its table is in the first schema (migrationsSchema's default)
        # `migrationsTable` names another, in a config file or the options the code passes.
        return super().history_tables(directory) | ({f"{found[0][0]}.pgmigrations"} if found else set()) \
            | configured_tables(directory, "migrationsTable")

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        stem = f"{int(now.timestamp() * 1000)}_{name.replace('_', '-')}"
        return {directory / f"{stem}.sql": "-- Up Migration\n\n-- Down Migration\n"}


def _marked(path: Path) -> bool:
    """A `.sql` file with node-pg-migrate's up marker, or a module whose exported `up` takes the
    migration builder by its conventional name (the text first: the tree search asks every
    directory)."""
    head = read_head(path)
    if path.suffix == ".sql":
        return bool(UP_MARK.search(head))
    if path.suffix not in LANGUAGES or "pgm" not in head:
        return False
    up = exported(parsed(path)[1]).get("up")
    return up is not None and parameter_names(up)[:1] == ["pgm"]


def prefix_value(name: str) -> int:
    """getNumericPrefix: the number a name starts with; a 17-digit one is a UTC time, in ms."""
    digits = PREFIX.match(name)
    prefix = digits[1] if digits else "0"
    if len(prefix) == 17:
        try:
            moment = datetime.strptime(prefix[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            return 0  # an invalid Date: NaN, which sorts nowhere in particular
        return int(moment.timestamp()) * 1000 + int(prefix[14:])
    return int(prefix)


def _migration(path: Path, up: Script | None, down: Script | None, **reasons: str | None) -> Migration:
    prefix = PREFIX.match(path.name)
    version = prefix[1] if prefix else "0"
    # localeCompare with numeric collation and punctuation ignored breaks ties
    tie = tuple((0, int(part)) if part.isdigit() else (1, part.lower())
                for part in re.findall(r"\d+|[^\W\d_]+", path.stem))
    return Migration(version=version, name=path.stem[len(version):].lstrip("_-"), label=path.stem,
                     sort_key=(prefix_value(path.name), tie), up=up, down=down, files=(path,),
                     skip_reason=reasons.get("skip_reason"), down_skip_reason=reasons.get("down_skip_reason"))


def _sql_migration(path: Path) -> Migration:
    """getActions: the up from its marker (the whole file without one) to the down's, the down
    from its marker to the up's (none without one)."""
    text = read_sql(path)
    up_at = _found(UP_MARK, text)
    down_at = _found(DOWN_MARK, text)
    up_text = text[up_at:] if up_at >= 0 else text
    if up_at >= 0 and down_at > up_at:
        up_text = text[up_at:down_at]
    up = Script(path, up_text, first_line=_line(text, max(up_at, 0)), transaction=Transaction.WRAPPED)
    down = None
    if down_at >= 0:
        end = up_at if up_at > down_at else len(text)
        down = Script(path, text[down_at:end], first_line=_line(text, down_at), transaction=Transaction.WRAPPED)
    return _migration(path, up, down)


def _module_migration(path: Path) -> Migration:
    source, root = parsed(path)
    values = Values(root, path)
    # SQL written as it is, also in the module's shorthands
    values.makers |= {"PgLiteral.create": sql_text, "new PgLiteral": sql_text}
    functions = exported(root)
    shorthands = _shorthands(root, values)
    up_node, down_node = functions.get("up"), functions.get("down")
    if up_node is None:
        return _migration(path, None, None, skip_reason=f"{CODE}: no up function found in it")
    up = read_function(up_node, source, values, PgmReading, shorthands=shorthands)
    if up.code is not None:
        return _migration(path, None, None, skip_reason=up.why_not_sql(CODE, "up"))
    up_script = up.script(path, _transaction(up))
    if down_node is not None and down_node.type == "false":
        return _migration(path, up_script, None, down_skip_reason=DISABLED)
    if down_node is None:  # the down node-pg-migrate infers: the up's inverses, last first
        down = read_function(up_node, source, values, PgmReading, shorthands=shorthands, reverse=True)
        if down.code is not None:
            return _migration(path, up_script, None, down_skip_reason=f"{NO_INVERSE}: {down.code[1]}, line {down.code[0]}")
        down = Export(down.line, tuple(Piece(down.line, 1, p.sql) for p in reversed(down.pieces)), flags=down.flags)
    else:
        line = down_node.start_point.row + 1
        down = read_function(down_node, source, values, PgmReading, shorthands=shorthands) \
            if down_node.type in FUNCTIONS else Export(line, code=(line, "not a function"))
        if down.code is not None:
            return _migration(path, up_script, None, down_skip_reason=down.why_not_sql(CODE, "down"))
    return _migration(path, up_script, down.script(path, _transaction(down)))


def _transaction(export: Export) -> Transaction:
    return Transaction.NONE if "noTransaction" in export.flags else Transaction.WRAPPED


def _shorthands(root: Node, values: Values) -> dict[str, Any]:
    """The module's `shorthands` export (column types it names), where written as a value."""
    value = exported(root, ("shorthands",)).get("shorthands")
    try:
        found = values.value(value) if value is not None else None
    except (Code, RecursionError):
        return {}
    return found if isinstance(found, dict) else {}


def _found(mark: re.Pattern[str], text: str) -> int:
    match = mark.search(text)
    return match.start() if match else -1


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


class PgmReading(Reading):
    """node-pg-migrate's builder: `pgm.sql(...)` (without template arguments), its operations
    (pgm_operations.py; their inverses, in `reverse`), `pgm.noTransaction()`."""

    sql_method = "sql"

    def __init__(self, source: bytes, values: Values, shorthands: dict[str, Any] | None = None,
                 reverse: bool = False) -> None:
        super().__init__(source, values)
        self.shorthands = shorthands or {}
        self.reverse = reverse
        self.queued = False  # an operation queued (pgm.sql, pgm.createTable, ...): it runs after the function
        self.immediate = False  # a pgm.db.query read: it runs at once, in the runner's transaction

    def function(self, node: Node, first: bool = False) -> tuple[int, str] | None:
        names = parameter_names(node)
        if first and names:  # `pgm.func('now()')` and `PgLiteral.create(...)`: SQL written as it is
            self.values.makers[f"{names[0]}.func"] = sql_text
        return super().function(node, first)

    def call(self, node: Node) -> tuple[int, str] | None:
        # `pgm.db.query(sql)` sends its SQL at once, before the operations queued so far would run
        # (they run after the function returns): read in its place only before any of them.
        owner, member = member_of(node.child_by_field_name("function"))
        base, field = member_of(owner) if owner is not None and owner.type == "member_expression" else (None, "")
        if member != "query" or field != "db" or base is None or base.type != "identifier" or text_of(base) != self.db:
            return super().call(node)
        if self.reverse:
            return self.code(node, "pgm.db.query, which has no inverse node-pg-migrate can infer")
        if self.queued:
            return self.code(node, "pgm.db.query after a queued operation, which it runs before")
        if "noTransaction" in self.flags:  # (it runs in the runner's transaction, the operations outside)
            return self.code(node, "pgm.db.query in a migration outside a transaction")
        self.immediate = True
        given = arguments_of(node)
        return self.code(given[1], "pgm.db.query with parameters") if len(given) > 1 else Reading.run_sql(self, node, given)

    def other_node(self, node: Node) -> tuple[int, str] | None:
        # `pgm.sql(a), pgm.sql(b)`: each call queues its SQL as it is evaluated, left to right (a
        # driver whose queries run only when awaited would send the last alone).
        if node.type == "sequence_expression":
            return self.walk_all(node.children)
        return super().other_node(node)

    def driver_call(self, node: Node, method: str, given: list[Node]) -> tuple[int, str] | None:
        if method == "noTransaction" and not given:
            if self.immediate:
                return self.code(node, "pgm.noTransaction after pgm.db.query, which ran in the runner's transaction")
            self.flags.add("noTransaction")
            return None
        self.queued = True
        return self.written(node, given, lambda values: operation_sql(method, values, self.shorthands, self.reverse))

    def run_sql(self, node: Node, given: list[Node]) -> tuple[int, str] | None:
        if self.reverse:
            return self.code(node, "pgm.sql, which has no inverse node-pg-migrate can infer")
        if len(given) > 1:  # pgm.sql(sql, args): `{name}` in the text replaced by the code's values
            return self.code(given[1], "pgm.sql with arguments")
        self.queued = True
        return super().run_sql(node, given)
