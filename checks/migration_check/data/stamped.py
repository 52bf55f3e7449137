"""Columns that trigger code writes on its own: not the migration's to give back.

A row trigger that stamps every update (`NEW.updated_at := now()` in a BEFORE UPDATE trigger), or
trigger code that keeps another table's column in step (`UPDATE collections SET updation_time =
...`), rewrites those columns whenever an up or a rollback updates rows. A rollback cannot give
their old values back, and is not asked to: the data family does not count them as lost, and says
which trigger wrote them. Read with PostgreSQL's PL/pgSQL parser; code in another language, or
dynamic SQL, stamps nothing here (those columns stay compared).
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
from pglast import ast, parser

from migration_check.data.code import trigger_tree
from migration_check.sql.objects import unquote
from migration_check.sql.trees import parse_sql

# pg_trigger.tgtype bits (catalog/pg_trigger.h).
ROW, BEFORE, UPDATE = 1 << 0, 1 << 1, 1 << 4

_TRIGGERS = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), t.tgname::text, t.tgtype::int, p.prosrc
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_language l ON l.oid = p.prolang
WHERE t.tgrelid = ANY(%s) AND NOT t.tgisinternal AND t.tgenabled <> 'D' AND l.lanname = 'plpgsql'
ORDER BY 2
"""


def stamped_columns(conn: psycopg.Connection, tables: list[int]) -> dict[tuple[str, str], str]:
    """(table, column) -> the trigger whose code writes that column, for the triggers of `tables`:
    the table qualified and quoted (`public.collections`) or as the code names it (`collections`),
    the column as PostgreSQL names it (see `writer`)."""
    found: dict[tuple[str, str], str] = {}
    # A query of the rare path (a rollback that changed values): not prepared, so that psycopg's
    # own statement cache never comes into play on the tool's session.
    for table, trigger, kind, source in conn.execute(_TRIGGERS, (tables,), prepare=False).fetchall():
        own, elsewhere = _writes(source)
        if kind & ROW and kind & BEFORE and kind & UPDATE:
            for column in own:
                found.setdefault((table, column), trigger)
        for relation, column in elsewhere:
            found.setdefault((relation, column), trigger)
    return found


def writer(stamps: dict[tuple[str, str], str], table: str, column: str) -> str | None:
    """The trigger that writes `column` (quoted where needed) of `table` (`schema.table`), if any."""
    name = unquote(column)
    return next((trigger for (written, stamped), trigger in stamps.items()
                 if stamped == name and same_table(table, written)), None)


def same_table(qualified: str, written: str) -> bool:
    """Whether `written` (as trigger code names it: `t` or `s.t`) is the table `qualified`
    (`schema.table`, quoted where needed)."""
    schema, _, name = qualified.partition(".")
    return written in (qualified, name, unquote(name)) or written == f"{unquote(schema)}.{unquote(name)}"


def _writes(source: str) -> tuple[set[str], set[tuple[str, str]]]:
    """The columns of NEW the body assigns, and the (table, column) its UPDATE statements set."""
    tree = trigger_tree(source)
    if tree is None:
        return set(), set()
    function = tree[0].get("PLpgSQL_function", {}) if tree else {}
    datums = function.get("datums", [])
    nodes = list(_nodes(function.get("action")))
    new = next((i for i, d in enumerate(datums) if d.get("PLpgSQL_rec", {}).get("refname") == "new"), None)
    rows = {new, *_copies_of_new(nodes, datums)} - {None}
    own: set[str] = set()
    elsewhere: set[tuple[str, str]] = set()
    for node in nodes:
        assign = node.get("PLpgSQL_stmt_assign")
        if isinstance(assign, dict) and rows:
            field = datums[assign.get("varno", 0)].get("PLpgSQL_recfield") if assign.get("varno", 0) < len(datums) else None
            if isinstance(field, dict) and field.get("recparentno", 0) in rows:
                own.add(str(field.get("fieldname")))
        query = node.get("PLpgSQL_stmt_execsql", {}).get("sqlstmt", {}).get("PLpgSQL_expr", {}).get("query")
        if isinstance(query, str):
            elsewhere |= _updated(query)
    return own, elsewhere


def _nodes(action: object) -> Iterator[dict]:
    """Every node of a PL/pgSQL parse tree (as pglast gives it), depth first."""
    pending: list[object] = [action]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            yield node
            pending.extend(node.values())


def _copies_of_new(nodes: list[dict], datums: list) -> set[int]:
    """The record variables the body sets to NEW (`_new := NEW;`, Hasura's
    set_current_timestamp_updated_at), whose fields it then stamps and returns."""
    copies: set[int] = set()
    for node in nodes:
        assign = node.get("PLpgSQL_stmt_assign")
        if isinstance(assign, dict):
            varno = assign.get("varno", 0)
            query = assign.get("expr", {}).get("PLpgSQL_expr", {}).get("query")
            if varno < len(datums) and "PLpgSQL_rec" in datums[varno] and isinstance(query, str) and _is_new(query):
                copies.add(varno)
    return copies


def _is_new(assignment: str) -> bool:
    """Whether an assignment's text (`_new := NEW`) gives the variable NEW itself, read with PostgreSQL's scanner."""
    try:
        tokens = parser.scan(assignment)
    except parser.ParseError:
        return False
    words = [assignment[token.start:token.end + 1] for token in tokens]
    return len(words) == 3 and words[1] in (":=", "=") and words[2].lower() == "new"


def _updated(query: str) -> set[tuple[str, str]]:
    try:
        statements = parse_sql(query)
    except parser.ParseError:
        return set()
    written: set[tuple[str, str]] = set()
    for raw in statements:
        update = raw.stmt
        if isinstance(update, ast.UpdateStmt) and update.relation is not None:
            relation = update.relation
            name = f"{relation.schemaname}.{relation.relname}" if relation.schemaname else str(relation.relname)
            written |= {(name, str(target.name)) for target in update.targetList or ()
                        if isinstance(target, ast.ResTarget) and target.name}
    return written
