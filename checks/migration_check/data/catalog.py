"""What the catalog says about the tables rows are generated for: their columns, the types of those
columns (down to the base type of a domain, the element of an array, the subtype of a range) and
their foreign keys. Read in a few queries for all tables at once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import psycopg
from pglast import ast, parser

from migration_check.schema.sql_common import FIRST_NORMAL_OID
from migration_check.sql import trees
from migration_check.sql.prepared import Prepared, fetch, literal, run

# Tables of the project: not the catalogs, not temporary, not partitions (rows go through the
# partitioned parent, which routes them), not a table an extension owns. Only the tables above the
# given oid are read (OFFSET 0: schema and extension looked up table by table, never read whole).
# And whether an INSERT into it fires a trigger or a rule (which may write other tables).
_TABLES = Prepared("""
SELECT c.oid, quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relname,
       c.relhasrules OR EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal
                                AND t.tgtype & 4 <> 0 AND t.tgenabled <> 'D')
FROM pg_class c CROSS JOIN LATERAL (SELECT nspname FROM pg_namespace WHERE oid = c.relnamespace OFFSET 0) n
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence <> 't'
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' AND c.oid > $1
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.deptype = 'e' OFFSET 0)
ORDER BY 2
""", "oid")
# Columns the server fills itself (generated, identity, serial) are left to it.
_COLUMNS = Prepared("""
SELECT a.attrelid, quote_ident(a.attname), a.attname, a.atttypid, a.atttypmod, format_type(a.atttypid, a.atttypmod),
       a.attnotnull, a.attgenerated <> '' OR a.attidentity <> ''
                     OR coalesce(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false),
       d.adbin IS NOT NULL,
       array(SELECT pg_get_constraintdef(con.oid) FROM pg_constraint con
             WHERE con.conrelid = a.attrelid AND con.contype = 'c' AND con.conkey = ARRAY[a.attnum])
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
""", "oid[]")
_FOREIGN_KEYS = Prepared("""
SELECT con.conrelid, con.confrelid,
       (SELECT quote_ident(n.nspname) || '.' || quote_ident(r.relname) FROM pg_class r
        JOIN pg_namespace n ON n.oid = r.relnamespace WHERE r.oid = con.confrelid),
       array(SELECT quote_ident(a.attname) FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
       array(SELECT quote_ident(a.attname) FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i),
       array(SELECT format_type(a.atttypid, a.atttypmod) FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)
FROM pg_constraint con
WHERE con.contype = 'f' AND con.conparentid = 0 AND con.conrelid = ANY($1)
ORDER BY con.conrelid, con.conname
""", "oid[]")
_TYPES = """
SELECT t.oid, t.typname, t.typtype, t.typcategory, t.typbasetype, t.typtypmod, t.typelem,
       array(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder),
       (SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid),
       {multirange},
       array(SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c'),
       array(SELECT ARRAY[a.attname::text, a.atttypid::text, a.atttypmod::text] FROM pg_attribute a
             WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)
FROM pg_type t WHERE t.oid = ANY($1)
"""
MULTIRANGES = 140000  # PostgreSQL 14 added multirange types
# Every partition of the partitioned tables asked about: the table, its bound, and the key columns
# of the table it partitions.
_PARTITIONS = Prepared("""
SELECT r.root, t.relid, t.parentrelid, t.isleaf, pg_get_expr(c.relpartbound, c.oid),
       array(SELECT quote_ident(a.attname) FROM pg_partitioned_table p
             CROSS JOIN LATERAL unnest(p.partattrs::int2[]) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = k.n
             WHERE p.partrelid = t.parentrelid ORDER BY k.o)
FROM unnest($1::oid[]) r(root) CROSS JOIN LATERAL pg_partition_tree(r.root) t JOIN pg_class c ON c.oid = t.relid
WHERE t.level > 0
ORDER BY r.root, t.relid
""", "oid[]")


@dataclass(frozen=True)
class TypeInfo:
    oid: int
    name: str  # pg_type.typname: int4, varchar, my_enum, _text
    kind: str  # typtype: b base, e enum, d domain, r range, m multirange, c composite
    category: str  # typcategory: N numeric, S string, A array, ...
    base: int  # a domain's base type
    base_typmod: int  # a domain's typmod (varchar(5) under a domain)
    element: int  # an array's element type
    labels: tuple[str, ...]  # an enum's labels, in order
    subtype: int | None  # a range's subtype (for a multirange: its range type)
    checks: tuple[str, ...] = ()  # a domain's CHECK constraints, as pg_get_constraintdef prints them
    fields: tuple[tuple[str, int, int], ...] = ()  # a composite type's fields: name, type, typmod


@dataclass(frozen=True)
class Column:
    quoted: str
    name: str
    type_oid: int
    typmod: int
    type_text: str  # format_type: what a literal is cast to
    not_null: bool
    server_fills: bool  # generated, identity or serial: the server gives the value
    has_default: bool
    checks: tuple[str, ...] = ()  # the definitions of the CHECK constraints on this column alone
    # The type a later migration casts this text column to, and that enum's labels (later_types.py).
    later_type: str | None = None
    later_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class ForeignKey:
    parent_oid: int
    parent: str  # qualified, quoted
    columns: tuple[str, ...]  # quoted, in key order
    parent_columns: tuple[str, ...]
    parent_types: tuple[str, ...]  # format_type of each parent column, with its typmod: char(36), not char(1)
    later: bool = False  # no such key yet: a later migration adds it (data/later_keys.py)


@dataclass
class Table:
    oid: int
    name: str  # qualified, quoted: public.users
    relname: str
    columns: list[Column] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    # For a partitioned table, one entry per leaf partition: key column -> a value inside its bounds.
    partitions: list[dict[str, str]] = field(default_factory=list)
    fires_on_insert: bool = False  # an INSERT fires a trigger or a rule of the project

    @property
    def references_itself(self) -> bool:
        return any(fk.parent_oid == self.oid for fk in self.foreign_keys)


def tables(conn: psycopg.Connection, excluded: set[str], after: int = 0) -> tuple[list[Table], int]:
    """The tables of the project with an oid above `after` (oids only grow: a table created later
    has a larger one), except those named in `excluded` (qualified names); and the largest oid
    among them, for the next call. Read through the index on oids, so the cost follows the new
    tables, not the schema."""
    rows = fetch(conn, _TABLES, after)
    found = [Table(oid, name, relname, fires_on_insert=fires) for oid, name, relname, fires in rows if name not in excluded]
    return found, max((int(oid) for oid, *_ in rows), default=after)


def describe(conn: psycopg.Connection, found: list[Table], built_in: dict[int, TypeInfo] | None = None) -> dict[int, TypeInfo]:
    """Fills in the columns and foreign keys of `found`; returns the types they use (see `types`)."""
    by_oid = {table.oid: table for table in found}
    oids = literal(list(by_oid))
    columns, keys, partitions = run(conn, [(_COLUMNS, [oids]), (_FOREIGN_KEYS, [oids]), (_PARTITIONS, [oids])],
                                    indexed=True)
    for oid, quoted, name, type_oid, typmod, type_text, not_null, server_fills, has_default, checks in columns:
        by_oid[oid].columns.append(Column(quoted, name, type_oid, typmod, type_text, not_null, server_fills, has_default,
                                          tuple(checks or ())))
    for oid, parent_oid, parent, columns_of, parent_columns, parent_types in keys:
        by_oid[oid].foreign_keys.append(ForeignKey(parent_oid, parent, tuple(columns_of), tuple(parent_columns),
                                                   tuple(parent_types)))
    for root, rows in itertools.groupby(partitions, key=lambda row: row[0]):
        by_oid[root].partitions = _partition_values([row[1:] for row in rows])
    return types(conn, {column.type_oid for table in found for column in table.columns}, built_in)


def _partition_values(rows: list[tuple]) -> list[dict[str, str]]:
    """Key values that route a row to each leaf partition (`rows`: the partitions of one table): a
    range partition's lower bound, a list partition's first value, merged down the levels. A
    default or hash partition adds nothing."""
    own: dict[int, dict[str, str]] = {}
    parents: dict[int, int] = {}
    for relid, parent, _, bound, keys in rows:
        parents[relid] = parent
        own[relid] = dict(zip(keys, _bound_values(bound or ""), strict=False))
    leaves = []
    for relid, _, is_leaf, _, _ in rows:
        if not is_leaf:
            continue
        values: dict[str, str] = {}
        node: int | None = relid
        while node in own:
            values = {**own[node], **values}
            node = parents.get(node)
        leaves.append(values)
    return leaves


def _bound_values(bound: str) -> list[str]:
    """The values of `FOR VALUES FROM ('2025-09-01') TO (...)` or `FOR VALUES IN ('a', 'b')`, as text."""
    try:
        [statement] = trees.parse_sql(f"CREATE TABLE x PARTITION OF y {bound}")
    except (parser.ParseError, ValueError):
        return []
    spec = getattr(statement.stmt, "partbound", None)
    if spec is None or spec.is_default:
        return []
    datums = spec.lowerdatums if spec.strategy == "r" else spec.listdatums[:1] if spec.strategy == "l" else ()
    values = []
    for datum in datums or ():
        constant = getattr(datum, "val", None) if isinstance(datum, ast.A_Const) else None
        if constant is None:
            break  # MINVALUE, MAXVALUE: no single value to give
        values.append(str(getattr(constant, "sval", None) or getattr(constant, "ival", None) or getattr(constant, "fval", None)))
    return values


def types(conn: psycopg.Connection, wanted: set[int], built_in: dict[int, TypeInfo] | None = None) -> dict[int, TypeInfo]:
    """The types `wanted`, and every type they are built on (domain bases, array elements, range
    subtypes, composite types' fields). `built_in` keeps the types made by initdb across calls (no migration changes them;
    an enum's labels or a domain's base may change, so user types are read every time)."""
    multirange = ("(SELECT r.rngtypid FROM pg_range r WHERE r.rngmultitypid = t.oid)"
                  if conn.info.server_version >= MULTIRANGES else "NULL::oid")
    query = Prepared(_TYPES.format(multirange=multirange), "oid[]")
    known = built_in if built_in is not None else {}
    found: dict[int, TypeInfo] = {}
    while wanted:
        found |= {oid: known[oid] for oid in wanted if oid in known}
        missing = wanted - known.keys()
        for row in fetch(conn, query, sorted(missing)) if missing else ():
            oid, name, kind, category, base, base_typmod, element, labels, subtype, multirange_of, checks, fields = row
            found[oid] = TypeInfo(oid, name, kind, category, base, base_typmod, element, tuple(labels),
                                  subtype if subtype is not None else multirange_of, tuple(checks or ()),
                                  tuple((field, int(type_oid), int(typmod)) for field, type_oid, typmod in fields or ()))
            if built_in is not None and oid < FIRST_NORMAL_OID:
                built_in[oid] = found[oid]
        wanted = {info.base for info in found.values()} | {info.element for info in found.values()} \
            | {info.subtype or 0 for info in found.values()} \
            | {type_oid for info in found.values() for _, type_oid, _ in info.fields}
        wanted -= set(found) | {0}
    return found
