"""The rows of a table before a migration, and how they differ later: after the up (what the up did
to existing data) and after the rollback (what the round trip lost).

Before the up, each watched table is copied, as text, into a temporary table of the tool's own
session (the migrations never see it, and a text copy depends on no type a migration might drop),
with a content fingerprint. One table holds every copy, each under its own number: a table per
copy cost a CREATE and a DROP per table and migration (catalog rows, a file, the event triggers),
more than the copying itself. Later, the table's fingerprint is computed again in the database;
only when it differs are the rows compared, by primary key where the table had one, in one query
that counts missing, extra and changed rows, per column, with an example of each. Nothing is
fetched into Python but counts and examples.

Only the columns that existed before the up are compared: a column the up adds and the rollback
drops is not data that existed.
"""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from migration_check.sql.prepared import Prepared, fetch, result_rows

_TABLES = Prepared("""
SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       array(SELECT quote_ident(a.attname) FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum),
       array(SELECT quote_ident(a.attname) FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n
             WHERE i.indrelid = c.oid AND i.indisprimary ORDER BY k.o)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = ANY($1) ORDER BY 2
""", "oid[]")
# The columns each table has now (quoted), for the tables that still exist.
_COLUMNS_NOW = Prepared("""
SELECT t.name, array(SELECT quote_ident(a.attname) FROM pg_attribute a
                     WHERE a.attrelid = to_regclass(t.name) AND a.attnum > 0 AND NOT a.attisdropped)
FROM unnest($1::text[]) t(name) WHERE to_regclass(t.name) IS NOT NULL
""", "text[]")
_numbers = itertools.count(1)
_ROWS_TABLE = "pg_temp.migration_check_rows"
_ROWS = sql.SQL(_ROWS_TABLE)
_CREATE_ROWS = "CREATE TEMP TABLE IF NOT EXISTS migration_check_rows (copy int4 NOT NULL, k text, v text[])"
# Deleted rows stay in a temporary table until it is vacuumed (autovacuum skips them), and every
# scan reads them: past this many, the table is emptied with TRUNCATE (a new file) instead.
_TRUNCATE_AFTER = 20_000
# The tool sessions that have the table, with the rows deleted from it since it was last emptied.
_deleted: weakref.WeakKeyDictionary[psycopg.Connection, int] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Copy:
    """A table's rows before the up, kept in the tool's session."""

    table: str  # qualified, quoted
    number: int  # the copy's rows in the temporary table: (copy, k, v), the key as text, the columns as text[]
    columns: tuple[str, ...]  # quoted, as before the up
    key: tuple[str, ...]  # the primary key's columns (quoted), or () for a table without one
    rows: int
    fingerprint: str

    @property
    def rows_sql(self) -> sql.Composable:
        """The copied rows, as a subquery with columns k and v."""
        return sql.SQL("(SELECT k, v FROM {} WHERE copy = {})").format(_ROWS, sql.Literal(self.number))

    def label(self, key_text: str) -> str:
        """How a row is named in a message: id=3, (tenant, id)=(1,3)."""
        return f"{self.key[0]}={key_text}" if len(self.key) == 1 else f"({', '.join(self.key)})={key_text}"


@dataclass
class RowChanges:
    """How a table's rows differ from their copy."""

    copy: Copy
    gone: bool = False  # the table no longer exists
    missing: int = 0
    extra: int = 0
    changed: int = 0
    changed_columns: dict[str, tuple[int, str]] = field(default_factory=dict)  # column -> (rows, example)
    absent_columns: dict[str, int] = field(default_factory=dict)  # column no longer there -> its non-null values
    missing_example: str = ""
    extra_example: str = ""

    def __bool__(self) -> bool:
        return self.gone or bool(self.missing or self.extra or self.changed or self.absent_columns)

    @property
    def only_changed(self) -> bool:
        """Every row that was there is there, and no other; some of their values differ."""
        return bool(self.changed_columns) and not (self.gone or self.missing or self.extra or self.absent_columns)

    @property
    def only_added(self) -> bool:
        """Every row that was there is there, unchanged; the difference is rows the up added."""
        return bool(self.extra) and not (self.gone or self.missing or self.changed or self.absent_columns)

    def describe(self) -> str:
        """`table public.users: 12 of 12 rows changed in column phone (e.g. id=3: '555-0103' became NULL)`."""
        copy, total = self.copy, self.copy.rows
        if self.gone:
            return f"table {copy.table}: the table is gone, with its {total} row{_s(total)}"
        parts = []
        if self.missing:
            parts.append(f"{self.missing} of {total} row{_s(total)} missing (e.g. {self.missing_example})")
        for column, rows in self.absent_columns.items():
            parts.append(f"column {column} is gone, with its {rows} non-null value{_s(rows)}")
        if self.changed_columns:
            columns = ", ".join(self.changed_columns)
            example = next(iter(self.changed_columns.values()))[1]
            word = "column" if len(self.changed_columns) == 1 else "columns"
            parts.append(f"{self.changed} of {total} row{_s(total)} changed in {word} {columns} (e.g. {example})")
        if self.extra:
            were = "was" if self.extra == 1 else "were"
            parts.append(f"{self.extra} row{_s(self.extra)} that {were} not there (e.g. {self.extra_example})")
        return f"table {copy.table}: " + "; ".join(parts)

    def describe_stamped(self, writers: dict[str, str]) -> str:
        """`table public.users: 5 rows rewritten by trigger code in updated_at (trigger stamp): ...`,
        for changes that only trigger code made (`writers`: column -> trigger)."""
        columns = ", ".join(f"{column} (trigger {trigger})" for column, trigger in writers.items())
        return (f"table {self.copy.table}: {self.changed} row{_s(self.changed)} rewritten by trigger code in {columns}:"
                " not the rollback's to give back")


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def take_copies(admin: psycopg.Connection, oids: list[int], excluded: set[str]) -> list[Copy]:
    """Copy the rows of the tables `oids` (but `excluded`) into the tool's session, in one message."""
    planned = []
    for _oid, table, columns, key in fetch(admin, _TABLES, oids):
        if table not in excluded and columns:
            planned.append((table, next(_numbers), tuple(columns), tuple(key)))
    if not planned:
        return []
    statements: list[str] = []
    if admin not in _deleted:
        statements.append(_CREATE_ROWS)
    for table, number, columns, key in planned:
        statements.append(f"WITH r AS (INSERT INTO {_ROWS_TABLE} SELECT {number}, {_key_expression(key)},"
                          f" {_values_expression(columns, set(columns))} FROM {table} t RETURNING k, v)"
                          f" SELECT count(*), {_FINGERPRINT} FROM r")
    copies = [Copy(table, number, columns, key, rows, fingerprint)
              for (table, number, columns, key), (rows, fingerprint) in zip(planned, _first_rows(admin, statements),
                                                                             strict=True)]
    _deleted.setdefault(admin, 0)
    return copies


def _first_rows(admin: psycopg.Connection, statements: list[str]) -> list[tuple]:
    """Run the statements in one message; the first row of each that returns rows."""
    if not statements:
        return []
    return [rows[0] for rows in result_rows(admin.execute("; ".join(statements).encode()))]


def drop_copies(admin: psycopg.Connection, copies: list[Copy]) -> None:
    if not copies or admin.closed or admin not in _deleted:
        return
    deleted = _deleted[admin] + sum(copy.rows for copy in copies)
    if deleted > _TRUNCATE_AFTER:
        admin.execute(sql.SQL("TRUNCATE {}").format(_ROWS))
        deleted = 0
    else:
        admin.execute(sql.SQL("DELETE FROM {} WHERE copy = ANY({})").format(
            _ROWS, sql.Literal([copy.number for copy in copies])))
    _deleted[admin] = deleted


# Order-independent: the md5 of the sorted per-row md5s.
_ROW_HASH = "md5(coalesce(r.k, '') || r.v::text)"
_FINGERPRINT = f"coalesce(md5(string_agg({_ROW_HASH}, '' ORDER BY {_ROW_HASH})), '')"

# The expressions below are SQL text: the names are quote_ident's already (the catalog read
# quotes them), and psycopg's composition, object by object, cost more than the copies' queries
# themselves (a quarter of the data family's time on trigger.dev).


def _key_expression(key: tuple[str, ...]) -> str:
    if not key:
        return "NULL::text"
    if len(key) == 1:
        return f"t.{key[0]}::text"
    return "ROW(" + ", ".join(f"t.{k}" for k in key) + ")::text"


def _values_expression(columns: tuple[str, ...] | list[str], present: set[str]) -> str:
    return "ARRAY[" + ", ".join(f"t.{c}::text" if c in present else "NULL::text" for c in columns) + "]::text[]"


def all_changes(admin: psycopg.Connection, copies: list[Copy]) -> list[RowChanges]:
    """How each table's rows differ now from its copy: nothing, mostly, which one message of
    fingerprints tells for all of them."""
    if not copies:
        return []
    columns_now = dict(fetch(admin, _COLUMNS_NOW, [copy.table for copy in copies]))
    compared = []
    for copy in copies:
        present = set(columns_now.get(copy.table, ()))
        if copy.table in columns_now and not set(copy.key) <= present:
            copy = Copy(copy.table, copy.number, copy.columns, (), copy.rows, copy.fingerprint)  # the key is gone: whole rows
        now = f"SELECT {_key_expression(copy.key)} AS k, {_values_expression(copy.columns, present)} AS v FROM {copy.table} t"
        compared.append((copy, present, now))
    fingerprints = iter(_first_rows(admin, [f"SELECT count(*), {_FINGERPRINT} FROM ({now}) r"
                                            for copy, _, now in compared if copy.table in columns_now]))
    found = []
    for copy, present, now in compared:
        if copy.table not in columns_now:
            found.append(RowChanges(copy, gone=copy.rows > 0))
        elif next(fingerprints) == (copy.rows, copy.fingerprint):
            found.append(RowChanges(copy))
        else:
            found.append(_differences(admin, copy, present, sql.SQL(now)))
    return found


def _differences(admin: psycopg.Connection, copy: Copy, present: set[str], now: sql.Composable) -> RowChanges:
    """How the rows differ, where the fingerprints do."""
    found = RowChanges(copy)
    absent = [index for index, column in enumerate(copy.columns) if column not in present]
    if absent:
        counts = admin.execute(sql.SQL("SELECT {} FROM {} r").format(
            sql.SQL(", ").join(sql.SQL("count(v[{}])").format(sql.Literal(i + 1)) for i in absent),
            copy.rows_sql)).fetchone()
        assert counts is not None
        found.absent_columns = {copy.columns[i]: n for i, n in zip(absent, counts, strict=True) if n}
    if copy.key:
        _by_key(admin, copy, now, present, found)
    else:
        _whole_rows(admin, copy, now, found)
    return found


def _by_key(admin: psycopg.Connection, copy: Copy, now: sql.Composable, present: set[str], found: RowChanges) -> None:
    both = sql.SQL("b.k IS NOT NULL AND n.k IS NOT NULL")
    compared = [(i + 1, column) for i, column in enumerate(copy.columns) if column in present]
    per_column = [sql.SQL("count(*) FILTER (WHERE {both} AND {differs}), "
                          "min(b.k || ': ' || coalesce(quote_literal(b.v[{i}]), 'NULL') || ' became '"
                          " || coalesce(quote_literal(n.v[{i}]), 'NULL')) FILTER (WHERE {both} AND {differs})"
                          ).format(both=both, i=sql.Literal(i), differs=_differs(i)) for i, _ in compared]
    query = sql.SQL("WITH n AS ({now}) SELECT count(*) FILTER (WHERE n.k IS NULL), count(*) FILTER (WHERE b.k IS NULL),"
                    " count(*) FILTER (WHERE {both} AND ({differs})),"
                    " min(b.k) FILTER (WHERE n.k IS NULL), min(n.k) FILTER (WHERE b.k IS NULL){more}"
                    " FROM {copy} b FULL JOIN n ON b.k = n.k").format(
        now=now, both=both, copy=copy.rows_sql,
        differs=sql.SQL(" OR ").join(_differs(i) for i, _ in compared) if compared else sql.SQL("false"),
        more=sql.SQL("").join(sql.SQL(", ") + part for part in per_column))
    row = admin.execute(query).fetchone()
    assert row is not None
    found.missing, found.extra, changed, missing_key, extra_key = row[:5]
    found.missing_example = copy.label(missing_key) if missing_key else ""
    found.extra_example = copy.label(extra_key) if extra_key else ""
    for (_, column), rows, example in zip(compared, row[5::2], row[6::2], strict=True):
        if rows:
            found.changed_columns[column] = (rows, copy.label(example))
    found.changed = changed


def _differs(i: int) -> sql.Composable:
    return sql.SQL("b.v[{i}] IS DISTINCT FROM n.v[{i}]").format(i=sql.Literal(i))


def _whole_rows(admin: psycopg.Connection, copy: Copy, now: sql.Composable, found: RowChanges) -> None:
    """A table without a primary key: rows compared whole, as a multiset."""
    query = sql.SQL("WITH n AS ({now}), gone AS (SELECT v FROM {copy} c EXCEPT ALL SELECT v FROM n),"
                    " added AS (SELECT v FROM n EXCEPT ALL SELECT v FROM {copy} c)"
                    " SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM added),"
                    " (SELECT min(array_to_string(v, ',', 'NULL')) FROM gone),"
                    " (SELECT min(array_to_string(v, ',', 'NULL')) FROM added)").format(now=now, copy=copy.rows_sql)
    row = admin.execute(query).fetchone()
    assert row is not None
    found.missing, found.extra = row[0], row[1]
    # Named by its columns, as a key names a row (tolgee's api_key_scopes_enum read `{1,1}`).
    columns = copy.columns[0] if len(copy.columns) == 1 else f"({', '.join(copy.columns)})"
    values = (lambda text: text) if len(copy.columns) == 1 else (lambda text: f"({text})")
    found.missing_example = f"{columns}={values(row[2])}" if row[2] is not None else ""
    found.extra_example = f"{columns}={values(row[3])}" if row[3] is not None else ""
