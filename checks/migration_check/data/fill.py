"""Rows in every table, generated from the catalog before each migration, so that the replay sees
what a production database holds: a rollback that loses data has data to lose.

Each table is filled once, when the replay first sees it (by oid: a table a rollback drops and
re-creates is a new table, and is filled again once its round trip is judged). Rows are inserted
in foreign-key order, parents first, and each child row references an existing parent row (the
same parent for every column of a composite key), as does a column a later migration makes a
foreign key (later_keys.py). Values come from values.py; the server fills
generated, identity and serial columns. When a batch breaks a constraint the generator cannot see
(a check, a trigger, a partition bound), rows are tried one at a time, then with their nullable
columns NULL, then with their defaulted columns left to the default, then with text that reads as
version numbers (what a trigger parsing `1.3.0` takes), then with two keys into one table on
different parent rows (`CHECK (sender <> recipient)`), then with one nullable column alone holding
a value (`CHECK (num_nonnulls(post_id, comment_id) = 1)`). Where a trigger or default reads a
setting the application gives its sessions (`current_setting('app.user_id')`), each INSERT is given
it alone. A table that ends up without rows is "not covered", with the server's reason.
"""

from __future__ import annotations

import graphlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import psycopg

from migration_check.data import catalog
from migration_check.data.catalog import Table, TypeInfo
from migration_check.data.later_keys import LaterKey, add_later_keys
from migration_check.data.later_types import LaterCast, apply_later_casts
from migration_check.data.row_plan import RowPlan, insert_sql, plan_rows, row_count
from migration_check.sql.prepared import quote_identifier, quote_literal, result_rows


@dataclass
class RowFiller:
    """Fills the tables of the database `admin` (an autocommit session) is connected to, each once."""

    rows: int
    excluded: set[str]  # qualified names of tables never filled (the runner's history table)
    statement_timeout: str = "1min"
    filled: set[int] = field(default_factory=set)
    not_covered: dict[str, str] = field(default_factory=dict)  # table -> why it has no rows
    database: str | None = None  # the database the filled oids belong to
    seen_up_to: int = 0  # the largest table oid read so far
    built_in_types: dict[int, TypeInfo] = field(default_factory=dict)  # the same in every database
    # The settings the application gives its sessions that the tables' triggers read, as found
    # (name -> value): given to every INSERT from then on.
    given: dict[str, str] = field(default_factory=dict)
    later: list[LaterKey] = field(default_factory=list)  # the foreign keys later migrations add
    casts: list[LaterCast] = field(default_factory=list)  # the casts of text columns later migrations make

    def forget(self) -> None:
        """The rows are gone (removed in place, or a rebuilt database): every table is filled again."""
        self.filled.clear()
        self.seen_up_to = 0

    def fill(self, admin: psycopg.Connection) -> list[str]:
        """Fill the tables not filled yet; returns their names."""
        if admin.info.dbname != self.database:  # a rebuilt database: every table is new
            self.forget()
            self.database = admin.info.dbname
        found, self.seen_up_to = catalog.tables(admin, self.excluded, self.seen_up_to)
        if not found or self.rows <= 0:
            return []
        types = catalog.describe(admin, found, self.built_in_types)
        add_later_keys(admin, found, self.later)
        apply_later_casts(found, self.casts)
        for table, reason in _fill_all(admin, _parents_first(found), types, self.rows, self.statement_timeout, self.given):
            self.filled.add(table.oid)
            if reason:
                self.not_covered[table.name] = reason
            else:
                self.not_covered.pop(table.name, None)
        return [table.name for table in found]


def _parents_first(found: list[Table]) -> list[Table]:
    """Tables in foreign-key order. A cycle is broken at a key that can do without its parent's
    rows: one a later migration adds (its column then holds values of its own), else one whose
    columns may be NULL, else where the cycle closes (those keys get NULL or the parent rows that
    already exist). The same order on every run: each table's parents are listed in `found`'s order
    (by name), never as a set of oids, whose order follows the oids' values, which other databases'
    objects shift (openmeter's cycles of charges and their runs were broken at a different key from
    run to run, and 23 tables were left without rows one run in two)."""
    by_oid = {table.oid: table for table in found}
    position = {table.oid: index for index, table in enumerate(found)}
    graph = {table.oid: sorted({fk.parent_oid for fk in table.foreign_keys
                                if fk.parent_oid in by_oid and fk.parent_oid != table.oid}, key=position.__getitem__)
             for table in found}
    order: list[int] = []
    while graph:
        try:
            order += graphlib.TopologicalSorter(graph).static_order()
            break
        except graphlib.CycleError as cycle:
            # Each node of the cycle precedes the next (is its parent): drop one such edge, sort again.
            nodes = cycle.args[1]
            edges = list(zip(nodes, nodes[1:], strict=False))
            parent, child = min(edges, key=lambda edge: _need(by_oid[edge[1]], edge[0]))
            graph[child].remove(parent)
    return [by_oid[oid] for oid in order]


def _need(child: Table, parent: int) -> int:
    """How much `child`'s keys into `parent` need its rows: 0 all added by a later migration, 1 all
    of nullable columns, 2 otherwise."""
    keys = [fk for fk in child.foreign_keys if fk.parent_oid == parent]
    if all(fk.later for fk in keys):
        return 0
    required = {column.quoted for column in child.columns if column.not_null}
    return 2 if any(required.intersection(fk.columns) for fk in keys if not fk.later) else 1


def _parent_keys(admin: psycopg.Connection, tables: list[tuple[Table, int]],
                 timeout: str) -> dict[int, dict[catalog.ForeignKey, list[list[str]]]]:
    """For each table (by oid) and `count`, the first `count` parent rows of each of its foreign
    keys, in key order, as typed literals: the rows `_parent_key` would pick (row i takes parent
    row i modulo their number). Read in one message before the INSERTs, so that they are plain
    VALUES: a subquery per cell made wide tables' INSERTs cost milliseconds to parse and plan (75
    of them for 5 rows of 15 keys)."""
    # Keys into the same parent columns (a code table that several columns reference) read once,
    # as many rows as the table that takes most (key order is total: the first rows are the same).
    wanted: dict[tuple[str, tuple[str, ...], tuple[str, ...]], int] = {}
    for table, count in tables:
        for fk in table.foreign_keys:
            key = (fk.parent, fk.parent_columns, fk.parent_types)
            wanted[key] = max(wanted.get(key, 0), count)
    parts = []
    for number, ((parent, parent_columns, parent_types), count) in enumerate(wanted.items()):
        columns = ", ".join(f"p.{column}" for column in parent_columns)
        # Cast to the column's own type, typmod included (pg_typeof drops it: a char(36) key cast
        # to `character` would be cut to one character).
        literals = ", ".join(f"format('%L::%s', p.{column}, {quote_literal(type_text)})"
                             for column, type_text in zip(parent_columns, parent_types, strict=True))
        parts.append(f"SELECT {number}, ARRAY(SELECT ARRAY[{literals}] FROM (SELECT {columns} FROM {parent} p"
                     f" ORDER BY {columns} LIMIT {count}) p)")
    by_number: dict[int, list[list[str]]] = {}
    if parts:
        [rows] = result_rows(admin.execute(timeout + " UNION ALL ".join(parts)))
        by_number = {number: [list(key) for key in keys] for number, keys in rows}
    numbers = {parent: number for number, parent in enumerate(wanted)}
    return {table.oid: {fk: by_number[numbers[fk.parent, fk.parent_columns, fk.parent_types]][:count]
                        for fk in table.foreign_keys}
            for table, count in tables}


def _fill_all(admin: psycopg.Connection, ordered: list[Table], types: dict[int, TypeInfo], rows: int,
              statement_timeout: str, given: dict[str, str]) -> Iterator[tuple[Table, str | None]]:
    """Fill the tables in `ordered`'s order; yields each with why it has no rows (or None). Each run
    of tables that can be filled together (_runs) goes in two messages (_fill_batch); a table alone
    the one-by-one way (_fill_table: a plain INSERT costs the server less than a DO block)."""
    for run in _runs(ordered, types, rows):
        if isinstance(run, Table) or len(run) == 1:
            table = run if isinstance(run, Table) else run[0][0].table
            yield table, _fill_table(admin, table, types, rows, _local_timeout(statement_timeout, given), given)
        else:
            yield from _fill_batch(admin, run, types, rows, statement_timeout, given)


# Tables filled in one message at most.
BATCH_TABLES = 100
# The custom setting the batch's DO block leaves the number of the first table that failed in.
_FAILED = "migration_check.fill_failed"


def _runs(ordered: list[Table], types: dict[int, TypeInfo], rows: int) -> Iterator[Table | list[tuple[RowPlan, int]]]:
    """The tables in order, as runs that can be filled together (each table's plan and row count):
    none a parent of another in the run, none after a table whose INSERT fires a trigger or rule
    (what it writes is in the next tables' parent keys), at most BATCH_TABLES; a table that
    references itself, or has no value to give, alone."""
    run: list[tuple[RowPlan, int]] = []
    for table in ordered:
        plan = plan_rows(table, types)
        if not isinstance(plan, RowPlan) or not plan.columns or table.references_itself:
            if run:
                yield run
                run = []
            yield table
            continue
        if len(run) == BATCH_TABLES or any(fk.parent_oid == other.table.oid for fk in table.foreign_keys
                                           for other, _ in run):
            yield run
            run = []
        run.append((plan, row_count(table, types, rows)))
        if table.fires_on_insert:
            yield run
            run = []
    if run:
        yield run


def _local_timeout(statement_timeout: str, given: dict[str, str]) -> str:
    return f"SET LOCAL statement_timeout = {quote_literal(statement_timeout)}; {_given(given)}"


def _given(given: dict[str, str]) -> str:
    """The application's settings for one implicit transaction (SET LOCAL: no rows to read past)."""
    return "".join(f"SET LOCAL {'.'.join(quote_identifier(part) for part in name.split('.'))} = {quote_literal(value)}; "
                   for name, value in given.items())


def _fill_batch(admin: psycopg.Connection, batch: list[tuple[RowPlan, int]], types: dict[int, TypeInfo], rows: int,
                statement_timeout: str, given: dict[str, str]) -> Iterator[tuple[Table, str | None]]:
    """Fill tables none of which references another of `batch` in two messages, instead of two per
    table (their round trips were half of filling a rebuilt schema of hundreds of tables): every
    parent key they take, then their INSERTs in a DO block, each in its own exception block, in
    order, stopping at the first that fails. That table is filled row by row, as alone, before the
    INSERTs after it, so that the rows are what the table-by-table way gives. Where the keys cannot
    be read, or a whole block fails, the tables not filled yet go the table-by-table way."""
    timeout = _local_timeout(statement_timeout, given)
    start = 0
    try:
        keys = _parent_keys(admin, [(plan.table, count) for plan, count in batch], timeout)
    except psycopg.Error:  # (a parent the session may not read: the one-by-one way says why)
        keys = None
    if keys is not None:
        planned = [(replace(plan, parent_keys=keys[plan.table.oid]), count) for plan, count in batch]
        inserts = [insert_sql(plan, [plan.row(i) for i in range(count)]) for plan, count in planned]
        while start < len(planned):
            try:
                failed = _insert_until_failure(admin, inserts[start:], statement_timeout, given)
            except psycopg.Error:
                break  # the whole message undone (a deferred constraint, the time limit, no PL/pgSQL)
            done = planned[start:] if failed is None else planned[start:start + failed]
            yield from ((plan.table, None) for plan, _ in done)
            if failed is None:
                return
            plan, count = planned[start + failed]
            yield plan.table, _row_by_row(admin, plan, count, timeout, given)
            start += failed + 1
    for plan, _ in batch[start:]:
        yield plan.table, _fill_table(admin, plan.table, types, rows, timeout, given)


def _insert_until_failure(admin: psycopg.Connection, inserts: list[str], statement_timeout: str,
                          given: dict[str, str]) -> int | None:
    """Run the INSERTs in order in one message; the index of the first that failed (its changes
    undone, none after it run), or None. The message's time limit is the sum of theirs."""
    tag = "$fill$"
    while any(tag in insert for insert in inserts):  # a generated or catalog text could hold it
        tag = f"$fill{len(tag)}$"
    blocks = "".join(f" BEGIN {insert}; EXCEPTION WHEN OTHERS THEN"
                     f" PERFORM set_config('{_FAILED}', '{number}', true); EXIT tables; END;"
                     for number, insert in enumerate(inserts))
    limit = _milliseconds(statement_timeout)
    limit_text = quote_literal(statement_timeout if limit is None else str(min(limit * len(inserts), MAX_TIMEOUT)))
    [[(failed,)]] = result_rows(admin.execute(
        f"SET LOCAL statement_timeout = {limit_text}; {_given(given)}DO {tag} BEGIN PERFORM set_config('{_FAILED}', '', true);"
        f" <<tables>> BEGIN{blocks} END tables; END {tag}; SELECT current_setting('{_FAILED}')"))
    return int(failed) if failed else None


# statement_timeout's largest value (an int of milliseconds).
MAX_TIMEOUT = 2**31 - 1
_UNITS = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def _milliseconds(duration: str) -> int | None:
    """A duration as the settings give it (`90s`, `10min`, a number of milliseconds) in milliseconds."""
    number = duration.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = duration[len(number):] or "ms"
    return int(number) * _UNITS[unit] if number.isdigit() and unit in _UNITS else None


def _fill_table(admin: psycopg.Connection, table: Table, types: dict[int, TypeInfo], rows: int,
                timeout: str, given: dict[str, str]) -> str | None:
    """Insert the table's rows; returns why it has none, or None. Each INSERT is one message with
    `timeout` (SET LOCAL): statements sent together on an autocommit session run as one implicit
    transaction, which a failure undoes whole (no BEGIN, SAVEPOINT, RELEASE, COMMIT round trips)."""
    plan = plan_rows(table, types)
    if isinstance(plan, str):
        return plan if not _has_rows(admin, table) else None
    count = row_count(table, types, rows)
    # A self-reference needs the rows before it: one statement per row then.
    if plan.columns and not table.references_itself:
        try:
            plan = replace(plan, parent_keys=_parent_keys(admin, [(table, count)], timeout)[table.oid])
        except psycopg.Error:
            pass  # (a parent the session may not read: each cell's subquery says why)
        try:
            admin.execute(timeout + insert_sql(plan, [plan.row(i) for i in range(count)]))
            return None
        except psycopg.Error:
            pass  # a constraint the generator cannot see: row by row
    return _row_by_row(admin, plan, count, timeout, given)


def _row_by_row(admin: psycopg.Connection, plan: RowPlan, count: int, timeout: str, given: dict[str, str],
                start: int = 0, trying: frozenset[str] = frozenset()) -> str | None:
    """Each row alone, as generated and then in each variant until one goes in; why the table has
    no rows, or None. `trying`: the application's settings `timeout` gives these rows on trial."""
    problem = None
    for i in range(start, count):
        for number, variant in enumerate(_VARIANTS):
            try:
                admin.execute(timeout + insert_sql(plan, [plan.row(i, **variant)]))
                break
            except psycopg.Error as error:
                setting = _application_setting(error)
                if setting is not None and setting not in trying:
                    return _with_setting(admin, plan, count, timeout, given, i, setting, error, trying)
                if problem is None or number < _REASONS:  # the reason for the rows as generated
                    problem = error
    if _has_rows(admin, plan.table):
        return None
    return _reason(problem)


def _reason(problem: psycopg.Error | None) -> str:
    if problem is None:
        return "no row could be inserted"
    reason = problem.diag.message_primary or str(problem)
    return f"no generated row could be inserted: {problem.diag.sqlstate or ''} {reason}".replace(":  ", ": ")


# What a setting the application gives its sessions is tried with: the first generated row's id, as
# an integer or a text key, then as a uuid (values.py makes both).
_SETTING_VALUES = ("1", "00000000-0000-4000-8000-000000000001")


def _application_setting(error: psycopg.Error) -> str | None:
    """The custom setting (`app.user_id`) whose absence the error reports: a trigger or default
    that reads `current_setting('app.user_id')`, which the application sets in each session."""
    message = error.diag.message_primary or ""
    if error.diag.sqlstate != "42704" or not message.startswith("unrecognized configuration parameter "):
        return None
    name = message.removeprefix("unrecognized configuration parameter ").strip('"')
    return name if "." in name else None  # (a built-in one is a misspelling, not the application's)


def _with_setting(admin: psycopg.Connection, plan: RowPlan, count: int, timeout: str, given: dict[str, str],
                  start: int, setting: str, error: psycopg.Error, trying: frozenset[str]) -> str | None:
    """The rows from `start` on again with the application's setting given for each INSERT alone
    (SET LOCAL, for its implicit transaction: no migration sees it); the value that works is
    given to every INSERT after (once set in a session, the setting reads as '' there, not as missing)."""
    for candidate in _SETTING_VALUES:
        if _row_by_row(admin, plan, count, timeout + _given({setting: candidate}), given, start, trying | {setting}) is None:
            given[setting] = candidate
            return None
    return _reason(error)


# Each row is tried as generated, then with its nullable columns NULL, then with its defaulted
# columns left to their defaults, then with text that reads as version numbers, then with its keys
# into one parent on different rows, then with one nullable column alone holding a value. The
# reason a table gets no rows is the error of the first three.
_VARIANTS: tuple[dict[str, bool], ...] = ({}, {"nulls": True}, {"nulls": True, "defaults": True}, {"versions": True},
                                          {"apart": True}, {"alone": True})
_REASONS = 3


def _has_rows(admin: psycopg.Connection, table: Table) -> bool:
    row = admin.execute(f"SELECT EXISTS (SELECT FROM {table.name})").fetchone()
    return bool(row and row[0])
