"""Whether an `ALTER COLUMN ... TYPE` left the table's rows as they were: the lock family names the
command that rewrote a table, and of an ALTER TABLE of several commands that predict a rewrite
(kalbasit/ncps: `ALTER COLUMN hash TYPE varchar, ALTER COLUMN size TYPE bigint`) it names one
that did, not the text to varchar that PostgreSQL only relabels.

PostgreSQL keeps the rows where the old type casts to the new one without a function (`pg_cast`'s
binary-coercible casts: text and varchar) and no USING expression is given; where the types are the
same, it may still check every row (a shorter varchar) or not (a longer one): that is left unknown.
"""

from __future__ import annotations

import psycopg
from pglast import ast
from pglast.enums import AlterTableType
from pglast.stream import RawStream

from migration_check.schema.snapshot import Snapshot

# to_regtype: a name the session cannot resolve is NULL (no error to abort the session's transaction).
_RELABELLED = ("SELECT to_regtype(%(old)s) <> to_regtype(%(new)s) AND EXISTS (SELECT FROM pg_catalog.pg_cast"
               " WHERE castsource = to_regtype(%(old)s) AND casttarget = to_regtype(%(new)s) AND castmethod = 'b')")


def relabelled_only(session: psycopg.Connection, before: Snapshot, table: str, command: ast.AlterTableCmd) -> bool:
    """Whether `command` (of an ALTER TABLE of `table`, its qualified name as the snapshot gives it)
    changes a column's type to one its old type is binary-coercible to, without USING: no rewrite."""
    if command.subtype != AlterTableType.AT_AlterColumnType or not isinstance(command.def_, ast.ColumnDef):
        return False
    definition = command.def_
    if definition.raw_default is not None or definition.typeName is None or command.name is None:
        return False  # USING computes every row again
    try:
        quoted = session.execute("SELECT quote_ident(%s)", (command.name,)).fetchone()
        old = before.get(("column", f"{table}.{quoted[0] if quoted else command.name}"))
        if old is None or "type" not in old.fields:
            return False
        new = str(RawStream()(definition.typeName))
        row = session.execute(_RELABELLED, {"old": old.fields["type"], "new": new}).fetchone()
    except (psycopg.Error, ValueError, NotImplementedError):
        return False  # a type the session cannot name: not known to be free
    return bool(row and row[0])
