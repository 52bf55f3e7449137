"""Alembic: revision files read without being run, ordered by their revision graph, and the SQL of
their operations written by Alembic itself for PostgreSQL."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

from conftest import replayed, write_files
from migration_check.discovery import detect, discover, layout_named
from migration_check.discovery.alembic_reading import read_revision
from migration_check.discovery.locate import configured_directories
from migration_check.history import static_checks
from migration_check.model import Status
from migration_check.servers.base import Database
from migration_check.settings import Settings


def revision(rev: str, down: str | None, upgrade: str = "op.execute('select 1')", downgrade: str = "pass",
             header: str = "") -> str:
    return (f"import sqlalchemy as sa\nfrom alembic import op\n{header}\nrevision = {rev!r}\ndown_revision = {down!r}\n"
            f"branch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n    {upgrade}\n\n\ndef downgrade():\n    {downgrade}\n")


# privacyidea's env.py: each statement committed on its own.
AUTOCOMMIT_ENV = ("from alembic import context\nconnection = engine.connect().execution_options("
                  "isolation_level='AUTOCOMMIT')\ncontext.configure(connection=connection)\n")


def sql_of(tmp_path: Path, body: str, header: str = "", function: str = "upgrade") -> str:
    path = tmp_path / "r.py"
    path.write_text(revision("a1", None, upgrade=body, header=header))
    found = read_revision(path, path.read_text()).functions[function]
    assert found.code is None, found.code
    return found.sql()


def skip_of(tmp_path: Path, body: str, header: str = "") -> tuple[int, str]:
    path = tmp_path / "r.py"
    path.write_text(revision("a1", None, upgrade=body, header=header))
    code = read_revision(path, path.read_text()).functions["upgrade"].code
    assert code is not None
    return code


def test_the_graph_orders_the_revisions_not_their_file_names(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "alembic.ini": "[alembic]\nscript_location = %(here)s/alembic\n",
        "alembic/env.py": "from alembic import context\n",
        "alembic/versions/aaa_third.py": revision("ccc", ("bbb", "bb2")),  # a merge of two branches
        "alembic/versions/bbb_second.py": revision("bbb", "zzz"),
        "alembic/versions/bb2_second_too.py": revision("bb2", "zzz"),
        "alembic/versions/zzz_first.py": revision("zzz", None),
        "alembic/versions/__init__.py": "",
        "alembic/versions/README": "notes\n",
    })
    found = discover(root, repo_root=root)
    assert found.format == "alembic" and "alembic.ini `script_location`" in found.reason
    order = [m.version for m in found.migrations]
    assert order[0] == "zzz" and order[-1] == "ccc" and sorted(order[1:3]) == ["bb2", "bbb"]
    assert [m.id for m in found.migrations][0] == "zzz_first"
    assert found.pending_in_one_transaction  # the default env.py: every pending revision in one transaction
    assert not [r for r in static_checks(found, Settings()) if r.status is Status.FAILED]


def test_what_alembic_refuses_in_the_graph_is_a_history_failure_at_its_line(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "migrations/versions/a_base.py": revision("a", None),
        "migrations/versions/b_one.py": revision("b", "a"),
        "migrations/versions/c_other.py": revision("c", "a"),  # a second head: upgrade head refuses
        "migrations/versions/helpers.py": "def upgrade():\n    pass\ndown_revision = None\n",
    })
    found = discover(root, repo_root=root)
    failed = {(r.file, r.line): r.message for r in static_checks(found, Settings())
              if r.check == "history" and r.status is Status.FAILED}
    assert "Multiple head revisions are present" in failed[("migrations/versions/b_one.py", 5)]
    assert "(b, c); `alembic merge heads` joins them" in failed[("migrations/versions/c_other.py", 5)]
    assert "Could not determine revision id from filename helpers.py" in failed[("migrations/versions/helpers.py", 1)]
    assert len(found.migrations) == 3  # each still replayed, each with its verdict
    write_files(root, {"migrations/versions/d_lost.py": revision("d", "gone")})
    found = discover(root, repo_root=root)
    failed = {(r.file, r.line): r.message for r in static_checks(found, Settings())
              if r.check == "history" and r.status is Status.FAILED}
    assert 'Revision gone referenced from d is not present' in failed[("migrations/versions/d_lost.py", 5)]


def test_named_branches_may_keep_their_own_heads(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "alembic/versions/a.py": revision("a", None, header="").replace("branch_labels = None", "branch_labels = ('core',)"),
        "alembic/versions/b.py": revision("b", None).replace("branch_labels = None", "branch_labels = ('tenant',)"),
    })
    found = discover(root / "alembic" / "versions", repo_root=root)
    assert not [r for r in static_checks(found, Settings()) if r.status is Status.FAILED]
    # A label that names a revision is refused, as Alembic refuses every command then.
    write_files(root, {"alembic/versions/c.py": revision("c", "b").replace("branch_labels = None", "branch_labels = 'a'")})
    found = discover(root / "alembic" / "versions", repo_root=root)
    [failed] = [r for r in static_checks(found, Settings()) if r.status is Status.FAILED]
    assert (failed.file, failed.line) == ("alembic/versions/c.py", 6)
    assert "\"Branch name 'a' in revision c already used by revision a\"" in failed.message
    order = [m.version for m in found.migrations]
    assert sorted(order) == ["a", "b", "c"] and order.index("b") < order.index("c")


def test_operations_are_written_as_alembic_writes_them_for_postgresql(tmp_path: Path) -> None:
    sql = sql_of(tmp_path, """op.create_table(
        "account",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.Enum("a", "b", name="kind"), server_default="a", nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    )
    op.create_index(op.f("ix_account_name"), "account", ["name"], unique=True, postgresql_where=sa.text("name <> ''"))
    op.alter_column("account", "name", existing_type=sa.String(), nullable=False, type_=sa.Text())""",
                 header="import sqlmodel.sql.sqltypes")
    assert "CREATE TYPE kind AS ENUM ('a', 'b');" in sql  # create_table creates the enum first, as Alembic does
    assert ("CREATE TABLE account (id SERIAL NOT NULL, kind kind DEFAULT 'a' NOT NULL, name VARCHAR,"
            " PRIMARY KEY (id))") in sql
    assert "CREATE UNIQUE INDEX ix_account_name ON account (name) WHERE name <> ''" in sql
    assert "ALTER TABLE account ALTER COLUMN name TYPE TEXT; ALTER TABLE account ALTER COLUMN name SET NOT NULL" in sql


def test_sql_written_in_the_file_stays_at_its_own_lines(tmp_path: Path) -> None:
    path = tmp_path / "r.py"
    path.write_text(revision("a1", None, upgrade='op.execute(\n        """\n        create table t (id int);\n'
                                                   '        create index on t (oops\n        """\n    )'))
    found = read_revision(path, path.read_text()).functions["upgrade"]
    lines = found.script(path, found_transaction()).sql.split("\n")
    text = path.read_text().split("\n")
    create = next(i for i, line in enumerate(text) if "create table t" in line)
    assert lines[create - found.line + 1].strip() == "create table t (id int);"


def found_transaction():  # noqa: ANN201 - the transaction every Alembic script has
    from migration_check.model import Transaction
    return Transaction.WRAPPED


def test_an_autocommit_block_ends_the_transaction_around_its_statements(tmp_path: Path) -> None:
    sql = sql_of(tmp_path, """op.add_column("t", sa.Column("a", sa.Integer()))
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE kind ADD VALUE 'c'")
    op.execute("select 2")""")
    statements = [s.strip() for s in sql.replace("\n", " ").split(";") if s.strip()]
    assert statements == ["ALTER TABLE t ADD COLUMN a INTEGER", "COMMIT", "ALTER TYPE kind ADD VALUE 'c'", "BEGIN",
                          "select 2"]


def test_the_connections_commit_ends_the_transaction_and_begins_the_next(tmp_path: Path) -> None:
    # pypi/warehouse commits before each autocommit_block (its env.py opens the transaction).
    sql = sql_of(tmp_path, """op.create_index("t_a", "t", ["a"])
    op.get_bind().commit()
    with op.get_context().autocommit_block():
        op.create_index("t_b", "t", ["b"], postgresql_concurrently=True)""")
    statements = [s.strip() for s in sql.replace("\n", " ").split(";") if s.strip()]
    assert statements == ["CREATE INDEX t_a ON t (a)", "COMMIT", "BEGIN", "COMMIT",
                          "CREATE INDEX CONCURRENTLY t_b ON t (b)", "BEGIN"]
    assert skip_of(tmp_path, "op.get_bind().rollback()") == (11, "the connection's rollback, which the project's env.py sets")


def test_alembic_postgresql_enums_operations_are_written_by_it(tmp_path: Path) -> None:
    header = "from alembic_postgresql_enum import ColumnType, TableReference"
    sql = sql_of(tmp_path, """op.sync_enum_values("public", "kind", ["a", "b", "c"],
        [TableReference(table_schema="public", table_name="t", column_name="k"),
         TableReference(table_name="t", column_name="ks", column_type=ColumnType.ARRAY)],
        enum_values_to_rename=[])""", header=header)
    assert 'ALTER TYPE "public"."kind" RENAME TO "kind_old"' in sql
    assert "CREATE TYPE \"public\".\"kind\" AS ENUM('a', 'b', 'c')" in sql
    assert 'USING "ks"::text[]::"public"."kind"[]' in sql
    assert 'DROP TYPE "public"."kind_old"' in sql
    # The old way names columns as tuples, and the library then asks the database for their default.
    assert "\n" not in sql.split("kind_old", 1)[1]  # all at the operation's line, bodies included
    assert skip_of(tmp_path, 'op.sync_enum_values("public", "kind", ["a"], [("t", "k")])', header) == (
        11, "uses a query's result (scalar), which only the database can say")
    assert skip_of(tmp_path, "ColumnType.__init__", header) == (11, "the private attribute __init__")


def test_another_librarys_sync_enum_values_is_not_taken_for_it(tmp_path: Path) -> None:
    # Netflix/lemur: alembic_autogenerate_enums registers an op.sync_enum_values with other arguments.
    (tmp_path / ".git").mkdir()
    call = 'op.sync_enum_values("public", "log_type", ["key_view"], ["create_cert", "key_view"])'
    root = write_files(tmp_path, {"alembic/env.py": "import alembic_autogenerate_enums\nfrom alembic import context\n",
                                  "alembic/versions/a1.py": revision("a1", None, upgrade=call)})
    [migration] = discover(root, repo_root=root).migrations
    assert migration.skip_reason is not None and ("op.sync_enum_values of alembic_autogenerate_enums, which env.py"
                                                  " imports and this check does not read") in migration.skip_reason


def test_a_synced_enum_and_its_rollback_are_replayed(tmp_path: Path, pg_server: Database) -> None:
    header = "from alembic_postgresql_enum import TableReference"
    sync = ('op.sync_enum_values("public", "kind", {values}, '
            '[TableReference(table_schema="public", table_name="t", column_name="k")])')
    write_files(tmp_path / "versions", {
        "a1_kind.py": revision("a1", None, upgrade="op.create_table('t', sa.Column('id', sa.Integer, primary_key=True),"
                               " sa.Column('k', sa.Enum('a', 'b', name='kind')))",
                               downgrade="op.drop_table('t')\n    op.execute('DROP TYPE kind')"),
        "b2_more.py": revision("b2", "a1", upgrade=sync.format(values=["a", "b", "c"]),
                               downgrade=sync.format(values=["a", "b"]), header=header),
    })
    cases, _ = replayed(pg_server, tmp_path, [], layout="alembic", directory="versions")
    # The library's new type really rewrites the table, at the operation's line; the rest holds.
    [(subject, check, _, message)] = [case for case in cases if case[2] not in ("passed", "skipped")]
    assert (subject, check) == ("b2_more", "locks") and "rewritten by line 11 (ALTER TABLE" in message
    assert {case[0] for case in cases if case[2] == "passed"} >= {"a1_kind", "b2_more"}


def test_a_batchs_operations_sit_at_their_own_lines(tmp_path: Path) -> None:
    # keephq/keep: a batch of three alter_column in a downgrade; PostgreSQL's batch alters in place.
    sql = sql_of(tmp_path, """with op.batch_alter_table("t") as batch_op:
        batch_op.alter_column("a", type_=sa.Text())

        batch_op.alter_column("b", existing_type=sa.Text(), nullable=False)
    op.execute("select 1")""")
    lines = sql.split("\n")
    assert lines[2].strip() == "ALTER TABLE t ALTER COLUMN a TYPE TEXT;"  # (from the function's line on)
    assert lines[4].strip() == "ALTER TABLE t ALTER COLUMN b SET NOT NULL;"
    assert lines[5].strip() == "select 1;"


def test_batches_loops_conditions_and_the_files_own_functions_are_followed(tmp_path: Path) -> None:
    sql = sql_of(tmp_path, """with op.batch_alter_table("t") as batch_op:
        batch_op.add_column(sa.Column("b", sa.Integer()))
    for name, columns in INDEXES.items():
        op.create_index(name, "t", columns)
    if is_postgres() and str(op.get_bind().engine.url).startswith("postgresql"):
        op.execute("select 'postgres'")
    else:
        op.execute("select 'other'")""", header=('INDEXES = {"ix_a": ["a"], "ix_b": ["b"]}\n\n'
                                                 'def is_postgres():\n    return op.get_context().dialect.name == "postgresql"\n'))
    assert "ALTER TABLE t ADD COLUMN b INTEGER" in sql
    assert "CREATE INDEX ix_a ON t (a)" in sql and "CREATE INDEX ix_b ON t (b)" in sql
    assert "select 'postgres'" in sql and "other" not in sql


def test_a_types_own_create_asks_the_database_first_as_sqlalchemy_does(tmp_path: Path) -> None:
    sql = sql_of(tmp_path, 'postgresql.ENUM("x", "y", name="mood").create(op.get_bind())\n'
                           '    sa.Enum("z", name="plain").create(op.get_bind())',
                 header="from sqlalchemy.dialects import postgresql")
    assert """IF to_regtype('"mood"') IS NULL THEN EXECUTE 'CREATE TYPE mood AS ENUM (''x'', ''y'')'""" in sql
    assert "CREATE TYPE plain AS ENUM ('z')" in sql and "to_regtype('plain')" not in sql  # checkfirst=False


def test_alembic_utils_entities_are_written_by_alembic_utils(tmp_path: Path) -> None:
    sql = sql_of(tmp_path, 'op.create_entity(PGFunction(schema="public", signature="one()", '
                           'definition="returns int language sql as $$ select 1 $$"))',
                 header="from alembic_utils.pg_function import PGFunction")
    assert 'CREATE FUNCTION "public"."one"() returns int language sql as $$ select 1 $$' in sql


def test_a_confirmation_in_a_python_comment_reaches_the_script(tmp_path: Path) -> None:
    sql = sql_of(tmp_path, '# migration-check: allow drop-column "moved to profiles"\n    op.drop_column("t", "a")')
    assert '-- migration-check: allow drop-column "moved to profiles"\n    ALTER TABLE t DROP COLUMN a' in sql


def test_python_the_check_cannot_replay_is_named_with_its_line(tmp_path: Path) -> None:
    assert skip_of(tmp_path, "op.add_column('t', sa.Column('a', GUID()))", header="from app.types import GUID") == (
        11, "uses app.types.GUID, the project's own Python or a library this check does not read")
    assert skip_of(tmp_path, "rows = op.get_bind().execute(sa.text('select 1')).fetchall()")[1] == \
        "a query's result (fetchall), which only the database can say"
    assert skip_of(tmp_path, "while True:\n        pass")[1] == "a loop"
    assert sql_of(tmp_path, "op.execute('select {0}, {name}'.format(1, name=\"'x'\"))").strip() == "select 1, 'x';"
    assert sql_of(tmp_path, "logger.info('adding t')\n    logging.warning('!')\n    op.execute('select 1')",
                  header="import logging\nlogger = logging.getLogger(__name__)").strip() == "select 1;"
    assert sql_of(tmp_path, "logger.info('adding t')\n    log = logger\n    log.success('!')\n    op.execute('select 1')",
                  header="from loguru import logger").strip() == "select 1;"  # (ethyca/fides)
    assert sql_of(tmp_path, """with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning)
        op.execute('select 1')""", header="import warnings").strip() == "select 1;"  # (advanced-alchemy's template)
    # TracecatHQ/tracecat builds its SQL piece by piece.
    assert sql_of(tmp_path, """parts = []
    for old, new in RENAMES.items():
        parts.append(f"WHEN '{old}' THEN '{new}'")
    parts.extend(["ELSE type"])
    op.execute("UPDATE action SET type = CASE type " + " ".join(parts) + " END")""",
                  header="RENAMES = {'a': 'b'}").strip() == "UPDATE action SET type = CASE type WHEN 'a' THEN 'b' ELSE type END;"
    assert skip_of(tmp_path, "parts = []\n    for i in range(6000):\n        parts.extend([i, i])")[1] == \
        "a list grown past 10,000 items"
    # TracecatHQ/tracecat: unpacked lists, a tuple bound to names, an assert, the project's own logger.
    assert sql_of(tmp_path, """first, second = ("a", "b")
    assert first == "a"
    logger.info("adding")
    op.execute("select '" + "', '".join([*KINDS, second]) + "'")""",
                  header="KINDS = ['x']\nfrom app.logger import logger").strip() == "select 'x', 'b';"
    assert skip_of(tmp_path, "first, second = ('a', 'b')\n    assert first == 'b'")[1] == "an assert that fails"
    assert skip_of(tmp_path, "op.execute(str(1 // 0))")[1] == \
        "Alembic or SQLAlchemy raised ZeroDivisionError here: integer division or modulo by zero"
    assert skip_of(tmp_path, "for a, b in [1, 2]:\n        pass")[1] == "a loop whose items do not unpack into its names"
    assert skip_of(tmp_path, "op.create_index(None, 't', [])")[1] == "Alembic or SQLAlchemy raised AssertionError here: "
    # Comprehensions over the file's own values (an IN list, a mapping turned around, nested loops).
    assert sql_of(tmp_path, """names = ", ".join(f"'{v}'" for v in VALUES if v != 'c')
    back = {new: old for old, new in RENAMES.items()}
    pairs = [a + b for a in "xy" for b in "12"]
    sizes = len({len(v) for v in VALUES})
    op.execute(f"select {names}, {' '.join(back)} {' '.join(pairs)} {sizes}")""",
                  header="VALUES = ['a', 'b', 'c']\nRENAMES = {'o': 'n'}").strip() == "select 'a', 'b', n x1 x2 y1 y2 1;"
    assert skip_of(tmp_path, "op.execute(str([a for a in range(200) for b in range(200)]))")[1] == \
        "a comprehension of more than 10,000 items"
    assert skip_of(tmp_path, "op.execute(str([r for r in op.get_bind().execute(sa.text('select 1'))]))")[1] == \
        "a comprehension over what the file cannot say alone"
    assert skip_of(tmp_path, "first, second = ('a', 'b', 'c')")[1] == "an assignment that does not unpack into its names"
    # ckan/ckan: the project's helper is named, not the op it is given.
    assert skip_of(tmp_path, "if skip_legacy(op, __name__):\n        return", header="from ckan.migration import skip_legacy")[1] == \
        "uses ckan.migration.skip_legacy, the project's own Python or a library this check does not read"
    assert skip_of(tmp_path, "if settings.FLAG and True:\n        op.execute('select 1')", header="from app import settings")[1] == \
        "uses app.settings.FLAG, the project's own Python or a library this check does not read"
    assert skip_of(tmp_path, "op.execute(f'select {settings.FLAG}')", header="from app import settings")[1] == \
        "uses app.settings.FLAG, the project's own Python or a library this check does not read"
    assert skip_of(tmp_path, "op.execute(open('/etc/passwd').read())")[1] == "open, a name the file does not bind to a value"


def test_nothing_a_migration_writes_reaches_outside(tmp_path: Path) -> None:
    marker = tmp_path / "touched"
    attempts = [
        f"os.system('touch {marker}')",
        f"sa.text.__globals__['__builtins__']['open']('{marker}', 'w')",
        "sa.create_engine('postgresql://prod/db').connect()",
        "sa.Table('t', sa.MetaData(), autoload_with=op.get_bind())",
        "op.get_context().config.get_main_option('sqlalchemy.url')",
        f"__import__('os').system('touch {marker}')",
        "op.get_bind().dialect.connect(host='127.0.0.1', port=1)",  # a dialect connects
        "op.get_context().dialect.loaded_dbapi.connect('host=127.0.0.1')",
        "sa.PickleType(pickler=sa.util)",  # a module is no value
        "op.create_entity(PGView.from_path('/etc/passwd'))",  # alembic_utils reads a file
        "op.execute('select {0.__init__.__globals__[os].environ}'.format(sa.Integer()))",  # the environment, as text
        f"sa.util.compat.os.system('touch {marker}')",
        "op.get_bind().connect()",  # (alembic-postgresql-enum's way to a connection, not the migration's)
        "alembic_postgresql_enum.connection.get_connection(op)",
        "TableReference('t', 'k').table_name_with_schema.__class__",
    ]
    for attempt in attempts:
        path = tmp_path / "r.py"
        path.write_text(revision("a1", None, upgrade=attempt, header="import os\nimport alembic_postgresql_enum\nfrom alembic_postgresql_enum import TableReference\n"
                                                                 "from alembic_utils.pg_view import PGView"))
        assert read_revision(path, path.read_text()).functions["upgrade"].code is not None, attempt
    assert not marker.exists()


def test_untrusted_python_that_would_not_end_is_stopped(tmp_path: Path) -> None:
    assert "runs more than 100,000 statements" in skip_of(
        tmp_path, "for a in ITEMS:\n        for b in ITEMS:\n            op.execute('select 1')",
        header="ITEMS = list(range(5000))")[1]
    path = tmp_path / "deep.py"
    path.write_text(revision("a1", None, upgrade="op.execute(" + "'x' + " * 50_000 + "'x')"))  # parses; deeper than a stack
    found = read_revision(path, path.read_text())
    assert found.problem == (1, "code nested deeper than this check reads") or \
        found.functions["upgrade"].code == (10, "code nested deeper than this check reads")
    (tmp_path / "r.py").unlink()  # the loop's file; detection and discovery read the deep one as well
    [migration] = discover(tmp_path, "alembic", repo_root=tmp_path).migrations
    assert migration.skip_reason is not None and "code nested deeper than this check reads" in migration.skip_reason


def test_transaction_per_migration_in_env_py_gives_each_its_own(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "alembic/env.py": "from alembic import context\ncontext.configure(connection=None, transaction_per_migration=True)\n",
        "alembic/versions/a.py": revision("a", None),
    })
    assert not discover(root, repo_root=root).pending_in_one_transaction


def test_an_autocommit_connection_in_env_py_runs_each_statement_on_its_own(tmp_path: Path, pg_server: Database) -> None:
    # privacyidea/privacyidea: its env.py commits each statement, and a revision tries a CREATE TABLE
    # that fails where the table exists, then goes on: on PostgreSQL too, there.
    from migration_check.model import Transaction
    (tmp_path / ".git").mkdir()
    tried = ("try:\n        op.create_table('t', sa.Column('id', sa.Integer))\n        op.execute('create table v ()')\n"
             "    except Exception as error:\n        print(f'expected: {error!r}')\n"
             "    op.execute('create table w ()')")
    handled = "try:\n        op.execute('select 2')\n    except Exception:\n        op.execute('select 3')"
    root = write_files(tmp_path, {
        "alembic/env.py": AUTOCOMMIT_ENV,
        "alembic/versions/a.py": revision("a", None, upgrade="op.execute('create table t (id int)')",
                                          downgrade="op.execute('drop table t')"),
        "alembic/versions/b.py": revision("b", "a", upgrade=tried,
                                          downgrade="op.execute('drop table w')\n    op.execute('drop table v')"),
        "alembic/versions/c.py": revision("c", "b", upgrade="try:\n        op.execute('select 2')\n    except Exception:\n"
                                                            "        raise"),
        "alembic/versions/d.py": revision("d", "c", upgrade=handled),
    })
    found = discover(root, repo_root=root)
    first, second, third, fourth = found.migrations
    assert not found.pending_in_one_transaction
    assert first.up is not None and first.up.transaction is Transaction.NONE
    # The try's body is a region a failure ends; what follows it runs, as under the runner.
    assert second.up is not None and second.up.tolerated == ((12, 13),)
    assert third.up is not None and not third.up.tolerated  # a handler that raises again stops the run
    assert fourth.skip_reason is not None and "a try that goes on where its statements fail, each committed on its" \
        " own (env.py's isolation_level AUTOCOMMIT), whose handler calls op.execute: what runs after it depends on" \
        " which failed, line 14" in fourth.skip_reason
    cases, _ = replayed(pg_server, root, [], layout="alembic", directory="alembic/versions")
    [applied] = [case for case in cases if case[:2] == ("b", "apply")]
    assert applied[2] == "passed" and 'b.py:12:9: ERROR 42P07: relation "t" already exists' \
        in applied[3] and applied[3].endswith("and the runner goes on after it, as the file asks (its `try`, its ignore_errors)")
    # v never came (the failure ended the body), w did: the rollback that drops v fails, as it would.
    [rolled_back] = [case for case in cases if case[:2] == ("b", "rollback")]
    assert rolled_back[2] == "failed" and 'table "v" does not exist' in rolled_back[3]


def test_what_env_py_passes_to_run_migrations_is_what_the_functions_take(tmp_path: Path) -> None:
    # quay/quay: `context.run_migrations(op=alembic_op, tables=tables, tester=get_tester())`, and
    # revisions written as `def upgrade(op, tables, tester)`.
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "alembic/env.py": ("from alembic import context\nfrom alembic import op as alembic_op\n"
                           "context.run_migrations(op=alembic_op, tables=tables, tester=get_tester())\n"),
        "alembic/versions/a.py": revision("a", None, upgrade="op.add_column('t', sa.Column('c', sa.Integer))")
        .replace("def upgrade():", "def upgrade(op, tables, tester):").replace("from alembic import op\n", ""),
        "alembic/versions/b.py": revision("b", "a", upgrade="op.bulk_insert(tables.kind, [])")
        .replace("def upgrade():", "def upgrade(op, tables, tester):"),
        "alembic/versions/c.py": revision("c", "b").replace("def upgrade():", "def upgrade(op, other):"),
    })
    first, second, third = discover(root, repo_root=root).migrations
    assert first.up is not None and 'ALTER TABLE t ADD COLUMN c INTEGER' in first.up.sql
    assert second.skip_reason is not None and "uses env.py's tables.kind" in second.skip_reason
    assert third.skip_reason is not None and "upgrade() takes other, which env.py's context.run_migrations() does not" \
        " pass: Alembic fails on it, line 10" in third.skip_reason


def test_a_backfill_in_batches_is_a_loop_postgresql_runs(tmp_path: Path, pg_server: Database) -> None:
    # PrefectHQ/prefect: `while True:` around an UPDATE of 500 rows at a time, until none is left.
    loop = ("while True:\n        result = conn.execute(sa.text(BATCH))\n        if result.rowcount {stop}:\n"
            "            break")
    batch = "BATCH = 'WITH todo AS (SELECT id FROM t WHERE n IS NULL LIMIT 2) UPDATE t SET n = 1 FROM todo WHERE t.id = todo.id'"
    write_files(tmp_path / "versions", {
        "a1_t.py": revision("a1", None, upgrade="op.execute('create table t (id int primary key, n int)')",
                            downgrade="op.drop_table('t')"),
        "b2_fill.py": revision("b2", "a1", upgrade="conn = op.get_bind()\n    " + loop.format(stop="<= 0"), header=batch),
        "c3_never.py": revision("c3", "b2", upgrade="conn = op.get_bind()\n    " + loop.format(stop="< 0"),
                                header=batch.replace("WHERE n IS NULL LIMIT 2", "LIMIT 2")),
    })
    project = discover(tmp_path / "versions", "alembic")
    fill = project.migrations[1].up
    assert fill is not None and "LOOP WITH todo AS" in fill.sql and "EXIT WHEN changed <= 0" in fill.sql
    cases, _ = replayed(pg_server, tmp_path, [], layout="alembic", directory="versions")
    verdicts = {(subject, check): (status, message) for subject, check, status, message in cases}
    assert verdicts[("b2_fill", "apply")][0] == "passed"
    # The rows it filled in stay filled in after its empty downgrade: a finding of the data family.
    assert verdicts[("b2_fill", "data")][0] == "failed" and "NULL became '1'" in verdicts[("b2_fill", "data")][1]
    status, message = verdicts[("c3_never", "apply")]
    assert status == "failed" and message.startswith(
        "c3_never.py:12:5: ERROR P0001: the loop at line 12 still changes rows after 10,000 rounds: it may never end")
    # Any other loop is still code the check does not run.
    assert skip_of(tmp_path, "while True:\n        op.execute('select 1')\n        break") == (11, "a loop")


def test_alembics_context_module_gives_the_migration_context(tmp_path: Path) -> None:
    # privacyidea/privacyidea: `from alembic import context`, then `context.get_context().dialect.name`.
    body = "if context.get_context().dialect.name == 'oracle':\n        return\n    op.execute('select 1')"
    assert sql_of(tmp_path, body, header="from alembic import context").strip() == "select 1;"


def test_a_tolerated_try_is_read_from_its_handlers_syntax() -> None:
    from migration_check.discovery.alembic_try import why_not_tolerated

    def refused(handler: str, bound: frozenset[str] = frozenset()) -> str | None:
        node = ast.parse(f"try:\n    op.execute('x')\n{handler}").body[0]
        assert isinstance(node, ast.Try)
        why = why_not_tolerated(node, set(bound))
        return why[1].split(", ")[-1].split(":")[0] if why else None

    # privacyidea's: it reads the error's text, prints, and raises only for an error it does not expect.
    assert refused("except (OperationalError, ProgrammingError) as exx:\n    msg = str(exx.orig).lower()\n"
                   "    if 'does not exist' in msg:\n        print('gone')\n    else:\n        log.warning(exx)\n"
                   "        raise") is None
    assert refused("except Exception:\n    return") == "whose handler returns"
    assert refused("except Exception:\n    failed = True", frozenset({"failed"})) == "whose handler sets failed"
    assert refused("except Exception:\n    state['failed'] = True") == "whose handler changes state['failed']"
    assert refused("except Exception:\n    op.get_bind().execute('y')") == "whose handler calls op.get_bind().execute"
    assert refused("except Exception:\n    pass\nelse:\n    op.execute('y')") == "with an else"


def test_a_tolerated_failure_that_follows_from_an_unreplayed_revision_is_not_judged(tmp_path: Path,
                                                                                   pg_server: Database) -> None:
    # privacyidea: a try around an index of a table that a revision the replay cannot run makes.
    (tmp_path / ".git").mkdir()
    tried = "try:\n        op.create_index('i', 'made_by_code', ['id'])\n    except Exception as error:\n        print(error)"
    root = write_files(tmp_path, {
        "alembic/env.py": AUTOCOMMIT_ENV,
        "alembic/versions/a.py": revision("a", None, upgrade="Session(bind=op.get_bind()).execute('create table made_by_code (id int)')",
                                          header="from sqlalchemy.orm import Session"),
        "alembic/versions/b.py": revision("b", "a", upgrade=tried, downgrade="op.drop_index('i')"),
    })
    cases, _ = replayed(pg_server, root, [], layout="alembic", directory="alembic/versions")
    [applied] = [case for case in cases if case[:2] == ("b", "apply")]
    assert applied[2] == "skipped" and "not judged" in applied[3] and 'relation "made_by_code" does not exist' \
        in applied[3], applied
    assert not [case for case in cases if case[2] == "failed"]


def test_a_statement_refused_in_a_transaction_is_told_by_how_env_py_runs_them(tmp_path: Path, pg_server: Database) -> None:
    # pypi/warehouse: a downgrade's DROP INDEX CONCURRENTLY, outside any autocommit_block.
    down = 'op.drop_index("t_a", table_name="t", postgresql_concurrently=True)'
    versions = {"versions/a.py": revision("a", None, upgrade="op.execute('CREATE TABLE t (a int)')",
                                          downgrade="op.execute('DROP TABLE t')"),
                "versions/b.py": revision("b", "a", upgrade='op.create_index("t_a", "t", ["a"])', downgrade=down)}
    for env_py, told in (("", "alembic runs every pending revision in one transaction"),
                         ("context.configure(transaction_per_migration=True)\n",
                          "alembic runs each revision in a transaction of its own (transaction_per_migration in env.py)")):
        root = write_files(tmp_path / str(len(env_py)), {"env.py": env_py, **versions})
        cases, _ = replayed(pg_server, root, [], layout="alembic", directory="versions")
        [message] = [message for subject, check, status, message in cases if (subject, check, status) == ("b", "rollback", "failed")]
        assert "DROP INDEX CONCURRENTLY cannot run inside a transaction block" in message and told in message, message


def test_a_version_table_env_py_names_is_the_runners_own(tmp_path: Path) -> None:
    root = write_files(tmp_path, {
        "alembic/env.py": "from alembic import context\ncontext.configure(connection=None, version_table='ckan_version',"
                          " version_table_schema='meta')\n",
        "alembic/versions/a.py": revision("a", None),
    })
    assert layout_named("alembic").history_tables(root / "alembic" / "versions") == {
        "public.alembic_version", "meta.ckan_version"}


def test_the_configuration_names_the_revisions(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        "alembic.ini": "[alembic]\nscript_location = myapp:db/migrations\n",
        "src/myapp/db/migrations/versions/a.py": revision("a", None),
    })
    assert [(p.relative_to(tmp_path).as_posix(), why) for p, why in configured_directories(tmp_path)] == [
        ("src/myapp/db/migrations/versions", "alembic.ini `script_location`")]
    write_files(tmp_path, {"pyproject.toml": '[tool.alembic]\nscript_location = "x"\nversion_locations = ["db/a", "db/b"]\n',
                           "db/a/a.py": "", "db/b/b.py": ""})
    assert ("db/b", "pyproject.toml [tool.alembic] `version_locations`") in [
        (p.relative_to(tmp_path).as_posix(), why) for p, why in configured_directories(tmp_path)]


def test_every_version_location_holds_one_history_run_by_the_script_directorys_env_py(tmp_path: Path) -> None:
    # Alembic's "multiple version directories": a platform's revisions and a module's, listed in
    # version_locations, make one graph; env.py stays in script_location. The check used to stop,
    # asking which of the two directories to check.
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "backend/alembic.ini": "[alembic]\nscript_location = %(here)s/alembic\nversion_path_separator = os\n"
                               "version_locations = %(here)s/alembic/versions:%(here)s/../modules/billing/versions\n",
        "backend/alembic/env.py": "from alembic import context\n"
                                  "context.configure(connection=None, transaction_per_migration=True)\n",
        "backend/alembic/versions/a1_users.py": revision("a1", None, "op.execute('create table users (id int)')"),
        "modules/billing/versions/b2_invoices.py": revision(
            "b2", "a1", "op.execute('create table invoices (id int, user_id int)')"),
        "modules/billing/versions/c3_paid.py": revision("c3", "b2", "op.execute('alter table invoices add paid bool')"),
    })
    found = discover(root, repo_root=root)
    assert [m.version for m in found.migrations] == ["a1", "b2", "c3"]
    assert not found.pending_in_one_transaction  # the script directory's env.py, not a location's parent
    layout, directory, detection = detect(root)
    assert (layout.name, directory.relative_to(root).as_posix()) == ("alembic", "backend/alembic/versions")
    assert "3 Alembic revision files (revision, down_revision) across 2 version locations" in detection.reason


def test_a_new_revision_follows_the_head(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {"alembic/versions/a.py": revision("a1b2", None)})
    made = layout_named("alembic").new_files(root / "alembic" / "versions", "add_tags", datetime(2025, 9, 6, tzinfo=UTC))
    [(path, text)] = made.items()
    assert path.name.endswith("_add_tags.py") and "down_revision = 'a1b2'" in text
    path.write_text(text)
    found = discover(root / "alembic" / "versions", repo_root=root)
    assert [m.version for m in found.migrations][0] == "a1b2" and found.migrations[1].up is not None


def test_queries_with_their_parameters_are_bound_as_the_driver_binds_them(tmp_path: Path) -> None:
    sql = sql_of(tmp_path, """conn = op.get_bind()
    conn.execute(sa.text("INSERT INTO tool (name, enabled) VALUES (:name, :enabled)"), {"name": "O'Brien", "enabled": True})
    tool = sa.table("tool", sa.column("name", sa.String), sa.column("kind", sa.String))
    conn.execute(tool.insert(), [{"name": "a", "kind": "x"}, {"name": "b", "kind": "y"}])
    conn.execute(tool.update().where(tool.c.name != "a").where(~tool.c.kind.in_(["z"])).values(kind="w"))""")
    assert "INSERT INTO tool (name, enabled) VALUES ('O''Brien', true)" in sql
    assert "INSERT INTO tool (name, kind) VALUES ('a', 'x')" in sql and "VALUES ('b', 'y')" in sql
    assert "UPDATE tool SET kind='w' WHERE tool.name != 'a' AND (tool.kind NOT IN ('z'))" in sql


def test_a_try_runs_its_body_as_postgresql_would_leave_it(tmp_path: Path) -> None:
    sql = sql_of(tmp_path, """try:
        create()
    except Exception as error:
        if "already exists" not in str(error):
            raise""", header="def create():\n    op.create_table('t', sa.Column('id', sa.Integer(), primary_key=True))\n")
    assert "CREATE TABLE t (id SERIAL NOT NULL, PRIMARY KEY (id))" in sql


def test_the_wrapping_libraries_types_compile_as_on_postgresql(tmp_path: Path) -> None:
    sql = sql_of(tmp_path, """op.create_table(
        "t",
        sa.Column("a", sqlmodel.sql.sqltypes.types.Uuid()),
        sa.Column("b", sqlalchemy_utils.types.uuid.UUIDType(binary=False)),
        sa.Column("c", sqlalchemy_utils.types.uuid.UUIDType(binary=False, native=False)),
        sa.Column("d", fastapi_users_db_sqlalchemy.generics.TIMESTAMPAware(timezone=True)),
        sa.Column("e", sqlalchemy_utils.TSVectorType("a", "b")),
        sa.Column("f", sqlmodel.Integer()),
        sa.Column("g", sqlalchemy_utils.types.arrow.ArrowType(timezone=True)),
        sa.Column("h", ArrowType),  # (Netflix/lemur)
        sa.Column("i", sqlalchemy_utils.ChoiceType([("a", "A")], impl=sa.Integer())),
        sa.Column("j", sqlalchemy_utils.types.PhoneNumberType("US", 25)),
        sa.Column("k", sqlalchemy_utils.CurrencyType),
        sa.Column("l", sqlalchemy_utils.types.encrypted.encrypted_type.StringEncryptedType()),  # (ethyca/fides)
        sa.Column("m", Vector(1536)),
        sa.Column("n", pgvector.sqlalchemy.HALFVEC()),
    )""", header="import sqlmodel\nimport sqlalchemy_utils\nimport fastapi_users_db_sqlalchemy\n"
                 "from sqlalchemy_utils import ArrowType\nimport pgvector.sqlalchemy\nfrom pgvector.sqlalchemy import Vector")
    assert ("CREATE TABLE t (a UUID, b UUID, c CHAR(32), d TIMESTAMP WITH TIME ZONE, e TSVECTOR, f INTEGER,"
            " g TIMESTAMP WITH TIME ZONE, h TIMESTAMP WITHOUT TIME ZONE, i INTEGER, j VARCHAR(25), k VARCHAR(3),"
            " l VARCHAR, m VECTOR(1536), n HALFVEC)") in sql


def test_advanced_alchemys_template_and_types_compile_as_on_postgresql(tmp_path: Path) -> None:
    # litestar-org/litestar-fullstack: the template sets the library's types on `sa` and uses them there.
    header = ("from advanced_alchemy.types import EncryptedString, FernetBackend, GUID, DateTimeUTC, StoredObject\n"
              "from advanced_alchemy.types.password_hash.base import PasswordHash\n"
              "sa.GUID = GUID\nsa.DateTimeUTC = DateTimeUTC\nsa.EncryptedString = EncryptedString\n"
              "sa.StoredObject = StoredObject")
    sql = sql_of(tmp_path, """op.create_table("t",
        sa.Column("id", sa.GUID(length=16), nullable=False),
        sa.Column("at", sa.DateTimeUTC(timezone=True)),
        sa.Column("secret", sa.EncryptedString(key="secret-key", backend=FernetBackend, length=None)),
        sa.Column("files", sa.StoredObject(backend="local", multiple=True)),
        sa.Column("hash", PasswordHash(backend=None, length=128)),
        sa.Column("bits", advanced_alchemy.types.BigIntIdentity),
    )""", header=header + "\nimport advanced_alchemy.types")
    assert ("CREATE TABLE t (id UUID NOT NULL, at TIMESTAMP WITH TIME ZONE, secret VARCHAR, files JSONB,"
            " hash VARCHAR(128), bits BIGINT)") in sql


def test_the_projects_own_enums_are_read_from_its_source(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "app/enums.py": ('from enum import Enum as PyEnum\n\n\nclass Plan(str, PyEnum):\n    """Plans."""\n\n'
                         '    FREE = "free"\n    PRO = "pro"\n\n    def label(self) -> str:\n        return self.value\n\n\n'
                         'class Computed(PyEnum):\n    A = compute()\n'),
        "alembic/versions/a.py": revision("a", None, header="from app.enums import Computed, Plan", upgrade=(
            'op.add_column("account", sa.Column("plan", sa.Enum(Plan, native_enum=False), nullable=True))\n'
            '    op.execute(f"UPDATE account SET plan = \'{Plan.PRO.name}\' WHERE plan IS NULL")')),
        "alembic/versions/b.py": revision("b", "a", header="from app.enums import Computed",
                                          upgrade='op.add_column("t", sa.Column("c", sa.Enum(Computed)))'),
    })
    found = discover(root / "alembic" / "versions", repo_root=root)
    first, second = found.migrations
    assert first.up is not None and "ADD COLUMN plan VARCHAR(4)" in first.up.sql and "SET plan = 'PRO'" in first.up.sql
    assert second.skip_reason is not None and "uses app.enums.Computed" in second.skip_reason  # a value computed: code


def test_the_projects_own_column_types_are_what_they_give_postgresql(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "app/db/guid.py": ("from sqlalchemy.dialects.postgresql import UUID\nfrom sqlalchemy.types import CHAR, TypeDecorator\n\n\n"
                           "class GUID(TypeDecorator):\n    impl = CHAR\n    cache_ok = True\n\n"
                           "    def load_dialect_impl(self, dialect):\n        if dialect.name == 'postgresql':\n"
                           "            return dialect.type_descriptor(UUID())\n        return dialect.type_descriptor(CHAR(32))\n\n\n"
                           "class Sized(TypeDecorator):\n    impl = CHAR\n\n    def load_dialect_impl(self, dialect):\n"
                           "        return CHAR(self.length)\n"),
        "app/db/types.py": "from app.db.guid import GUID, Sized  # noqa: F401\n",  # a re-export, as mealie's is
        "alembic/versions/a.py": revision("a", None, header="from app.db.types import GUID", upgrade=(
            'op.create_table("t", sa.Column("id", GUID(), primary_key=True), sa.Column("o", GUID))')),
        "alembic/versions/b.py": revision("b", "a", header="from app.db.types import Sized",
                                          upgrade='op.add_column("t", sa.Column("s", Sized(4)))'),
    })
    first, second = discover(root / "alembic" / "versions", repo_root=root).migrations
    assert first.up is not None and "CREATE TABLE t (id UUID NOT NULL, o UUID, PRIMARY KEY (id))" in first.up.sql
    assert second.skip_reason is not None and "uses Sized (guid.py), whose type for PostgreSQL is code" in second.skip_reason


def test_a_project_type_that_takes_a_model_is_its_impl(tmp_path: Path) -> None:
    # PrefectHQ/prefect: `Pydantic(Model)` stores the model as the module's own JSON type (JSONB on
    # PostgreSQL), or as the type its second argument gives; the model itself is never read.
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "app/database.py": ("import sqlalchemy as sa\nfrom sqlalchemy.dialects import postgresql\n"
                            "from sqlalchemy.types import TypeDecorator\n\n\nclass JSON(TypeDecorator):\n"
                            "    impl = postgresql.JSONB\n\n    def load_dialect_impl(self, dialect):\n"
                            "        if dialect.name == 'postgresql':\n"
                            "            return dialect.type_descriptor(postgresql.JSONB(none_as_null=True))\n"
                            "        return dialect.type_descriptor(sa.JSON(none_as_null=True))\n\n\n"
                            "class Pydantic(TypeDecorator):\n    impl = JSON\n\n"
                            "    def __init__(self, pydantic_type, sa_column_type=None):\n        super().__init__()\n"
                            "        self._pydantic_type = pydantic_type\n        if sa_column_type is not None:\n"
                            "            self.impl: type = sa_column_type\n"),
        "alembic/versions/a.py": revision("a", None, header="import app.database\nfrom app.schemas import Filter", upgrade=(
            'op.create_table("t", sa.Column("f", app.database.Pydantic(Filter)),'
            ' sa.Column("g", app.database.Pydantic(Filter, sa.Text())),'
            ' sa.Column("h", app.database.Pydantic(Filter, sa_column_type=sa.Integer)))')),
    })
    [first] = discover(root / "alembic" / "versions", repo_root=root).migrations
    assert first.up is not None and "CREATE TABLE t (f JSONB, g TEXT, h INTEGER)" in first.up.sql, first.skip_reason


def test_the_projects_own_functions_and_constants_are_run_as_the_files_own(tmp_path: Path) -> None:
    # TracecatHQ/tracecat: helpers of its own that return each table's row-level-security SQL.
    (tmp_path / ".git").mkdir()
    helpers = '''from alembic import op

SCOPED = ("workflow", "case")
VAR = "app.rls_bypass"


def policy_name(table):
    return f"rls_policy_{table}"


def enable_rls(table):
    return f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; CREATE POLICY {policy_name(table)} ON {table}" \\
        f" USING (current_setting('{VAR}', true) = 'on')"


def enable_all():
    for table in SCOPED:
        op.execute(enable_rls(table))


def reads_the_database():
    return op.get_bind().execute("select 1").fetchall()
'''
    root = write_files(tmp_path, {
        "tracecat/db/tenant_rls.py": helpers,
        "alembic/versions/a.py": revision("a", None, header="from tracecat.db.tenant_rls import SCOPED, enable_rls",
                                          upgrade="for table in SCOPED:\n        op.execute(enable_rls(table))"),
        "alembic/versions/b.py": revision("b", "a", header="from tracecat.db import tenant_rls",
                                          upgrade="tenant_rls.enable_all()\n    op.execute('select 2')"),
        "alembic/versions/c.py": revision("c", "b", header="from tracecat.db.tenant_rls import reads_the_database",
                                          upgrade="reads_the_database()"),
    })
    first, second, third = discover(root / "alembic" / "versions", repo_root=root).migrations
    assert first.up is not None and second.up is not None
    policy = ("ALTER TABLE workflow ENABLE ROW LEVEL SECURITY; CREATE POLICY rls_policy_workflow ON workflow"
              " USING (current_setting('app.rls_bypass', true) = 'on')")
    assert policy in first.up.sql and "rls_policy_case" in first.up.sql
    lines = second.up.sql.split("\n")
    assert policy in lines[1] and "rls_policy_case" in lines[1] and lines[2].strip() == "select 2;"  # at the call's line
    assert third.skip_reason is not None and ("a query's result (fetchall), which only the database can say,"
                                              " in reads_the_database (tenant_rls.py, line 22)") in third.skip_reason


def test_unnamed_constraints_are_named_by_the_target_metadatas_convention(tmp_path: Path) -> None:
    # bitcart/bitcart: Alembic names a migration's unnamed constraints by env.py's target_metadata's
    # naming convention; a later revision drops one by that name.
    (tmp_path / ".git").mkdir()
    models = ('from sqlalchemy import MetaData\n\nCONVENTION = {"fk": "%(table_name)s_%(column_0_name)s_%(referred_table_name)s_fkey",'
              ' "pk": "pk_%(table_name)s"}\nmy_metadata = MetaData(naming_convention=CONVENTION)\n\n\n'
              'class Model:\n    metadata = my_metadata\n')
    create = ('op.create_table("b", sa.Column("id", sa.Integer, primary_key=True), sa.Column("a_id", sa.Integer),'
              ' sa.ForeignKeyConstraint(["a_id"], ["a.id"]))')
    root = write_files(tmp_path, {
        "api/models.py": models,
        "alembic/env.py": "from alembic import context\nfrom api.models import Model\n\ntarget_metadata = Model.metadata\n",
        "alembic/versions/a.py": revision("a", None, upgrade=create,
                                          downgrade='op.drop_constraint(None, "b", type_="foreignkey")'),
    })
    [migration] = discover(root, repo_root=root).migrations
    assert migration.up is not None
    # A foreign key without a name the convention cannot name: Alembic itself fails there.
    assert migration.down_skip_reason is not None and \
        "Alembic or SQLAlchemy raised IndexError here: list index out of range, line 15" in migration.down_skip_reason
    assert ("CONSTRAINT pk_b PRIMARY KEY (id), CONSTRAINT b_a_id_a_fkey FOREIGN KEY(a_id) REFERENCES a (id)"
            in migration.up.sql), migration.up.sql
    (root / "alembic" / "env.py").write_text("from alembic import context\nfrom api import models\n\n"
                                             "target_metadata = [models.Model.metadata]\n")  # several: none applies
    [migration] = discover(root, repo_root=root).migrations
    assert migration.up is not None and "PRIMARY KEY (id), FOREIGN KEY(a_id)" in migration.up.sql
