"""What the code a migration runs without showing it may write: the functions of its triggers, and
the functions of the project its statements call (data/watch.py asks).

The code is read with PostgreSQL's own parsers (SQL, and PL/pgSQL through a function's whole
definition), for the tables it names and the functions it calls, which are read in turn. A function
that is not VOLATILE may not write (PostgreSQL refuses its INSERT, UPDATE or DELETE), and an
extension's functions are the extension's C code: neither is read. What cannot be read this way (a
dynamic EXECUTE, a TRUNCATE ... CASCADE, another language, a body kept as a tree, a call of a
function that runs SQL given as text) makes the answer "anything": then every table is watched.
"""

from __future__ import annotations

import functools

import psycopg
from pglast import ast, parser
from pglast.enums import DropBehavior
from pglast.parser import ParseError

from migration_check.sql import trees
from migration_check.sql.objects import touched_names
from migration_check.sql.prepared import Prepared, fetch

_TRIGGER_CODE = Prepared("""
SELECT DISTINCT l.lanname, p.prosrc, NULL::text FROM pg_trigger t
JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_language l ON l.oid = p.prolang
WHERE t.tgrelid = ANY($1) AND NOT t.tgisinternal
""", "oid[]")
# The VOLATILE functions of the project's own by these names (every overload), with their whole
# definition where it is PL/pgSQL (its parameters are variables of the body). pg_get_functiondef
# names a type of a schema not on the search path with its schema, which pglast's PL/pgSQL parser
# cannot look up: it runs with the function's own schema first on the path, then every other (for
# this transaction), so that a type is named alone unless an earlier schema holds its name too
# (a table `submissions` in two schemas, each with its trigger's helper taking its own row type).
_FUNCTION_CODE = Prepared("""
WITH schemas(path) AS (
    SELECT string_agg(quote_ident(nspname), ', ' ORDER BY oid) FROM pg_namespace
    WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema')
SELECT l.lanname, p.prosrc,
       CASE WHEN l.lanname = 'plpgsql' THEN (
           SELECT pg_get_functiondef(p.oid)
           FROM (SELECT set_config('search_path', quote_ident(n.nspname) || ', ' || schemas.path, true)) own_first)
       END
FROM schemas, pg_proc p JOIN pg_language l ON l.oid = p.prolang JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.proname = ANY($1) AND p.provolatile = 'v' AND p.prokind IN ('f', 'p')
  AND p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
""", "name[]")
# PL/pgSQL statements whose effect the text does not show (PERFORM and CALL show the function they
# run, which is read in turn).
_DYNAMIC = frozenset({"PLpgSQL_stmt_dynexecute", "PLpgSQL_stmt_dynfors"})
# Functions that run SQL given as text: the built-in XML ones, dblink's.
_RUN_TEXT = frozenset({"query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "dblink", "dblink_exec",
                       "dblink_send_query", "dblink_open"})
# PL/pgSQL's parse modes (RawParseMode) of an assignment's expression, `target := expression`.
_ASSIGN = 3

# What one piece of code names: (tables, functions called), or None when it may do anything.
Names = tuple[frozenset[str], frozenset[str]] | None


def called_functions(sql: str) -> frozenset[str]:
    """The functions a statement calls (the last part of their names, as the parser gives it)."""
    return frozenset(trees.called_names(trees.statements(sql)))


def truncates_cascade(sql: str) -> bool:
    """Whether `sql` holds a TRUNCATE ... CASCADE (it empties tables no name gives)."""
    return any(isinstance(raw.stmt, ast.TruncateStmt) and raw.stmt.behavior == DropBehavior.DROP_CASCADE
               for raw in trees.statements(sql))


def created_functions(sql: str) -> dict[str, Names]:
    """What the functions a CREATE FUNCTION statement makes name (by the last part of their name),
    read from the statement itself: they are not in the catalog before the migration runs."""
    made: dict[str, Names] = {}
    for raw in trees.statements(sql):
        statement = raw.stmt
        if not isinstance(statement, ast.CreateFunctionStmt) or not statement.funcname:
            continue
        options = {option.defname: option.arg for option in statement.options or ()}
        language = str(getattr(options.get("language"), "sval", "sql"))
        body = options.get("as")
        source = str(getattr(body[0], "sval", "")) if isinstance(body, tuple) and len(body) == 1 else None
        name = str(getattr(statement.funcname[-1], "sval", ""))
        if statement.sql_body is not None or source is None:
            made[name] = None  # BEGIN ATOMIC, or C code
        elif language == "plpgsql":
            made[name] = _plpgsql_names(sql, trigger=False)
        else:
            made[name] = _code_names(language, source, None, trigger=False)
    return made


def written_by_triggers(conn: psycopg.Connection, tables: list[int]) -> tuple[set[str], bool]:
    """The table names the code of these tables' triggers (and the functions it calls) mentions, and
    whether some of it may do anything."""
    names, called, dynamic = _read_all(fetch(conn, _TRIGGER_CODE, tables), trigger=True)
    if dynamic:
        return names, True
    more, dynamic = written_by_functions(conn, called)
    return names | more, dynamic


def written_by_functions(conn: psycopg.Connection, called: set[str] | frozenset[str]) -> tuple[set[str], bool]:
    """The table names the project's VOLATILE functions by these names (and those they call, in
    turn) mention, and whether some of them may do anything."""
    names: set[str] = set()
    seen: set[str] = set()
    pending = set(called)
    while pending:
        if pending & _RUN_TEXT:
            return names, True
        seen |= pending
        rows = fetch(conn, _FUNCTION_CODE, sorted(pending))
        found, more, dynamic = _read_all(rows, trigger=False)
        if dynamic:
            return names | found, True
        names |= found
        pending = set(more) - seen
    return names, False


def _read_all(rows: list[tuple], trigger: bool) -> tuple[set[str], set[str], bool]:
    names: set[str] = set()
    called: set[str] = set()
    for language, source, definition in rows:
        found = _code_names(language, source, definition, trigger)
        if found is None:
            return names, called, True
        names |= found[0]
        called |= found[1]
    return names, called, False


def _code_names(language: str, source: str, definition: str | None, trigger: bool) -> Names:
    if language == "sql" and source.strip():
        if truncates_cascade(source):
            return None
        return touched_names(source), called_functions(source)
    if language == "plpgsql":
        if trigger:
            return _plpgsql_names(source, trigger=True)
        return _plpgsql_names(definition, trigger=False) if definition else None
    return None  # C, another language, or a SQL body kept as a tree (BEGIN ATOMIC)


def trigger_tree(source: str) -> list | None:
    """PostgreSQL's PL/pgSQL parse tree (as pglast gives it) of a trigger function's body; None
    when it does not parse."""
    return trees.plpgsql_body(source, "trigger")


@functools.lru_cache(maxsize=256)
def _plpgsql_names(code: str, trigger: bool) -> Names:
    """The table names the SQL statements of a PL/pgSQL trigger body or function definition
    mention, and the functions they call; None when it runs dynamic code or does not parse. (One
    trigger function serves many tables and migrations: each is read once.)"""
    tree = trigger_tree(code) if trigger else trees.plpgsql_function(code)
    return None if tree is None else _tree_names(tree, dynamic_ends=True)


def do_block_tables(body: str) -> frozenset[str]:
    """The table names the SQL statements of a PL/pgSQL DO block's body mention, dynamic EXECUTEs
    aside (what it names outright, for saying which statement of a migration took a lock)."""
    tree = trees.plpgsql_body(body)
    names = _tree_names(tree, dynamic_ends=False) if tree is not None else None
    return names[0] if names is not None else frozenset()


def _tree_names(tree: list, dynamic_ends: bool) -> Names:
    names: set[str] = set()
    called: set[str] = set()
    pending: list[object] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if dynamic_ends and _DYNAMIC & node.keys():
                return None
            expression = node.get("PLpgSQL_expr")
            if isinstance(expression, dict) and isinstance(expression.get("query"), str):
                query = _assignment_as_comparison(expression["query"]) if expression.get("parseMode", 0) >= _ASSIGN \
                    else expression["query"]
                if dynamic_ends and truncates_cascade(query):
                    return None
                names |= touched_names(query) or touched_names(f"SELECT {query}")
                called |= called_functions(query) or called_functions(f"SELECT {query}")
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return frozenset(names), frozenset(called)


def _assignment_as_comparison(query: str) -> str:
    """An assignment's text (`target := expression`, no SQL) as a comparison that parses, with the
    same names and calls (`target = expression`): the `:=` found by PostgreSQL's own scanner."""
    try:
        tokens = parser.scan(query)
    except ParseError:
        return query
    for token in tokens:
        if token.name == "COLON_EQUALS":
            return f"{query[:token.start]}={query[token.end + 1:]}"
    return query
