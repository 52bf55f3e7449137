"""yoyo discovery: rollback files, -- depends: ordering, transactional headers, Python migrations."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import replayed, write_files
from migration_check.discovery import discover
from migration_check.errors import FileError, UsageError
from migration_check.history import static_checks
from migration_check.history.naming import check_naming
from migration_check.model import RollbackPolicy, Status, Transaction
from migration_check.servers.base import Database
from migration_check.settings import Settings
from migration_check.sql.splitter import split_script


def project(tmp_path: Path, files: dict[str, str]):
    return discover(write_files(tmp_path, {f"migrations/{k}": v for k, v in files.items()}), repo_root=tmp_path)


def test_order_by_dependencies_then_name(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "0001.base.sql": "create table a (id int);\n",
        "0001.base.rollback.sql": "drop table a;\n",
        "0002.needs-later.sql": "-- needs 0003\n-- depends: 0003.later\n\ncreate table b (id int);\n",
        "0003.later.sql": "-- depends: 0001.base\ncreate table c (id int);\n",
        "0004.python.py": "def f(conn):\n    pass\n\nsteps = [step(f)]\n",
        "0005.rollback-orphan.rollback.sql": "select 1;\n",
        "post-apply.sql": "analyze;\n",
    })
    assert found.format == "yoyo"
    assert found.reason == "2 <id>.rollback.sql files, 2 -- depends: headers"
    assert [m.id for m in found.migrations] == ["0001.base", "0003.later", "0002.needs-later", "0004.python"]
    assert found.migrations[0].down.path.name == "0001.base.rollback.sql"
    assert found.migrations[3].up is None
    assert found.migrations[3].skip_reason == (
        "Python migration: the step at line 4 runs the function f, which the check cannot replay")
    assert [o.path.name for o in found.orphan_rollbacks] == ["0005.rollback-orphan.rollback.sql"]
    assert [s.path.name for s in found.stray_files] == ["post-apply.sql"]


def test_transactional_false_header(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "0001.index.sql": "-- transactional: false\n-- depends:\ncreate index concurrently i on t (a);\n",
        "0001.index.rollback.sql": "drop index concurrently i;\n",
    })
    assert found.migrations[0].up.transaction is Transaction.NONE
    assert found.migrations[0].down.transaction is Transaction.NONE


@pytest.mark.parametrize(
    ("files", "words"),
    [
        ({"0001.a.sql": "-- depends: 0009.missing\nselect 1;\n"}, "not a migration here"),
        ({"0001.a.sql": "-- depends: 0002.b\nselect 1;\n", "0002.b.sql": "-- depends: 0001.a\nselect 2;\n"}, "dependency cycle"),
    ],
)
def test_bad_dependencies_are_refusals_and_every_migration_is_still_judged(tmp_path: Path, files: dict[str, str],
                                                                        words: str) -> None:
    found = project(tmp_path, {**files, "0000.x.rollback.sql": "select 0;\n"})
    [refusal] = found.refusals
    assert words in refusal.message and "yoyo runs no migration then" in refusal.message and refusal.line == 1
    assert sorted(m.id for m in found.migrations) == sorted(name.removesuffix(".sql") for name in files)


def test_a_project_of_python_migrations_is_yoyo_and_its_names_are_fine(tmp_path: Path) -> None:
    # As `yoyo new` writes them without --sql (seen on medwig/yoyo-migration-tutorial): migrations
    # replayed from their steps, not "no migrations found", and no naming failure for `.py`.
    step = 'from yoyo import step\n\nsteps = [step("create table users (id int)", "drop table users")]\n'
    write_files(tmp_path, {"yoyo.ini": "[DEFAULT]\nsources = ./migrations\n",
                           "migrations/20190604_01_Vra0v-create-users.py": step,
                           "migrations/20190604_02_ORgoL-add-age.py": step})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "yoyo"
    assert [m.skip_reason for m in found.migrations] == [None, None]
    naming = [r for r in static_checks(found, Settings()) if r.check == "naming"]
    assert {r.status for r in naming} == {Status.PASSED}


def statements(script) -> list[tuple[int, int, str]]:
    return [(s.line, s.column, s.sql) for s in split_script(script)]


def test_python_steps_are_replayed_where_the_file_writes_them(tmp_path: Path) -> None:
    # yoyo collects step() calls in call order as it imports the module; group() takes its steps
    # and adds itself at its call; the rollback runs the steps' rollbacks in reverse order.
    found = project(tmp_path, {"0001_a.py": (
        'from yoyo import step, group as together\n'
        '__depends__ = {}\n'
        'TABLE = """\n    CREATE TABLE t (id int)\n"""\n'
        'steps = [\n'
        '    step(TABLE, "DROP TABLE t"),\n'
        '    together(\n'
        '        step(apply="ALTER TABLE t ADD a int", rollback="ALTER TABLE t DROP a"),\n'
        '        step("ALTER TABLE t " "ADD b int", f"ALTER TABLE t DROP b"),\n'
        '    ),\n'
        '    step(textwrap.dedent("""\n        CREATE INDEX i ON t (a)"""), None),\n'
        '    step("""\n    SELECT 1""".strip()),\n'
        ']\n')})
    [migration] = found.migrations
    assert migration.up.transaction is Transaction.WRAPPED and migration.files == (migration.up.path,)
    assert statements(migration.up) == [
        (4, 5, "CREATE TABLE t (id int)"), (9, 21, "ALTER TABLE t ADD a int"),
        (10, 15, "ALTER TABLE t ADD b int"), (13, 1, "CREATE INDEX i ON t (a)"), (15, 5, "SELECT 1")]
    assert statements(migration.down) == [
        (10, 46, "ALTER TABLE t DROP b"), (9, 57, "ALTER TABLE t DROP a"), (7, 18, "DROP TABLE t")]


def test_python_headers_order_and_transactions(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "0001.b.py": 'from yoyo import step\n__depends__ = "0002.a"\n__transactional__ = False\nstep("select 1")\n',
        "0002.a.py": 'from yoyo import step\n__depends__ = ["0003.c"]\nstep("select 2")\n',
        "0003.c.sql": "select 3;\n",
        "0003.c-first.py": "from yoyo import step\nsteps = []\n",
    })
    # yoyo sorts the files by name (0003.c-first.py before 0003.c.sql), then by their dependencies.
    assert [m.id for m in found.migrations] == ["0003.c-first", "0003.c", "0002.a", "0001.b"]
    first, _, _, last = found.migrations
    # Steps without rollbacks: yoyo's rollback runs nothing, an empty rollback the round trip judges.
    assert last.up.transaction is Transaction.NONE and last.implicit_down and last.down.sql == ""
    assert statements(first.up) == [] and first.down is not None  # no steps: nothing to undo


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("steps = [step(lambda conn: None)]\n", "the step at line 2 runs Python code"),
        ("SQL = 'select 1'\nSQL = 'select 2'\nsteps = [step(SQL)]\n", "the step at line 4 runs Python code"),
        ("steps = [step('select ' + str(1))]\n", "the step at line 2 computes its SQL"),
        ("for n in range(3):\n    step(f'select {n}')\n", "the step at line 3 is made by Python code (in a function, loop or condition)"),
        ("steps = [step('select 1', ignore_errors=MODE)]\n",
         "the step at line 2 ignores its errors as Python computes (MODE)"),
        ("steps = [step(*ARGS)]\n", "the step at line 2 takes its arguments from Python code"),
        ("a = step('select 1')\nsteps = [group(a)]\n", "the group at line 3 gathers steps made elsewhere"),
        ("__depends__ = set(NAMES)\n", "its __depends__ (line 2) is computed"),
    ],
)
def test_python_the_check_cannot_replay_is_skipped_with_its_line(tmp_path: Path, source: str, reason: str) -> None:
    [migration] = project(tmp_path, {"0001_a.py": f"from yoyo import step, group\n{source}"}).migrations
    assert migration.up is None
    assert migration.skip_reason == f"Python migration: {reason}, which the check cannot replay"


def test_steps_whose_errors_yoyo_ignores_go_on_after_them_as_yoyo_does(tmp_path: Path, pg_server: Database) -> None:
    # yoyo runs each step in a savepoint of the migration's transaction; with ignore_errors a failed
    # step is rolled back to it, and the migration goes on (yoyo/migrations.py, TransactionWrapper).
    source = ("from yoyo import step, group\nsteps = [\n"
              "    step('create table t (id int)', 'drop table t'),\n"
              "    step('alter table t add column c int; alter table missing add column c int',\n"
              "         'alter table t drop column c', ignore_errors='all'),\n"
              "    group(step('insert into t values (1)'), step('select 1/0'), ignore_errors='apply'),\n"
              "    step('alter table t add column d int', 'alter table t drop column d'),\n]\n")
    write_files(tmp_path, {"migrations/0001_a.py": source, "migrations/0002_b.py": source.replace(
        "__transactional__", "x").replace("from yoyo import step, group\n",
                                          "from yoyo import step, group\n__transactional__ = False\n").replace(
        " t ", " u ").replace("table t", "table u").replace("into t", "into u")})
    first, second = discover(tmp_path / "migrations", repo_root=tmp_path).migrations
    assert first.up is not None and first.up.tolerated == ((4, 5), (6, 6))
    assert first.down is not None and first.down.tolerated == ((4, 5),)
    cases, _ = replayed(pg_server, tmp_path, [], layout="yoyo")
    applied = {subject: message for subject, check, status, message in cases if check == "apply" and status == "passed"}
    # In the transaction the failed step's first statement is rolled back with it (its savepoint),
    # and the group's insert with its division; outside one, what ran before the failure stays.
    assert 'relation "missing" does not exist, and the runner goes on after it' in applied["0001_a"]
    assert "division by zero" in applied["0001_a"] and "division by zero" in applied["0002_b"]
    assert not [case for case in cases if case[2] == "failed"], cases


def test_python_that_yoyo_cannot_import_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(FileError) as caught:
        project(tmp_path, {"0001_a.py": "from yoyo import step\nsteps = [step('select 1')\n", "0000.x.rollback.sql": ""})
    assert caught.value.line == 2 and caught.value.message.startswith("yoyo cannot import it:")


def test_python_steps_without_rollbacks_ask_for_one_in_the_step_where_rollbacks_are_required(tmp_path: Path) -> None:
    found = project(tmp_path, {"0001_a.py": "from yoyo import step\nsteps = [step('create table a (id int)')]\n",
                               "0002_b.sql": "create table b (id int);", "0002_b.rollback.sql": "drop table b;"})
    [pairing, _] = [r for r in static_checks(found, Settings()) if r.check == "pairing"]
    assert pairing.status is Status.PASSED  # yoyo runs nothing for it: the round trip judges that
    [pairing, _] = [r for r in static_checks(found, Settings(rollbacks=RollbackPolicy.REQUIRED))
                    if r.check == "pairing"]
    assert pairing.status is Status.FAILED
    assert pairing.message.startswith(
        '0001_a.py has no rollback: add a rollback to its steps (`step("<apply>", "<rollback>")`) that undoes it')


def test_plain_sql_files_in_a_directory_yoyo_ini_names_are_yoyos(tmp_path: Path) -> None:
    # Kroks4502/tg_ch_aggregator: yoyo.ini's `sources = migrations/`, and 22 plain `001-initial.sql`
    # files, with no header or rollback: read as numbered scripts, though yoyo runs them (its ids,
    # its transactions, its history table).
    write_files(tmp_path, {
        "yoyo.ini": "[DEFAULT]\nsources =\n    migrations/\nbatch_mode = on\n",
        "migrations/001-initial.sql": "create table source (id int);\n",
        "migrations/002-rename_tables.sql": "alter table source rename to sources;\n",
        "other/001-notes.sql": "select 1;\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "yoyo"
    assert found.reason == "2 .sql files; directory from yoyo.ini `sources`"
    assert [m.id for m in found.migrations] == ["001-initial", "002-rename_tables"]
    assert discover(tmp_path / "other", repo_root=tmp_path).format == "numbered"  # no yoyo.ini names it


def test_every_source_of_a_yoyo_ini_holds_one_list_of_migrations(tmp_path: Path) -> None:
    # yoyo's read_migrations: each source's files sorted, the sources one after the other, then
    # moved after their dependencies; a source is a glob. The check used to stop, asking which one.
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        "yoyo.ini": "[DEFAULT]\nsources = core plugins/*\n",
        "core/0002_users.sql": "create table users (id int);\n",
        "core/0002_users.rollback.sql": "drop table users;\n",
        "plugins/billing/0001_invoices.sql": "-- depends: 0002_users\ncreate table invoices (user_id int);\n",
        "plugins/audit/0003_log.sql": "-- depends:\ncreate table log (at timestamptz);\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "yoyo" and found.directory == tmp_path / "core"
    assert "across 3 sources" in found.reason
    assert [m.id for m in found.migrations] == ["0002_users", "0003_log", "0001_invoices"]
    names = {case.subject: case.status for case in check_naming(found, Settings())}
    assert names == dict.fromkeys(["0002_users.sql", "0002_users.rollback.sql", "0001_invoices.sql", "0003_log.sql"],
                                  Status.PASSED)


def test_a_rollback_misnamed_so_that_yoyo_runs_it_forward_fails_the_naming_check(tmp_path: Path) -> None:
    # StreetOfCode/discord-bot: `0006.social-media-survey.rollback..sql` (a dot too many) is no
    # rollback to yoyo but a migration of its own, which it runs forward, before the one it undoes.
    write_files(tmp_path, {
        "yoyo.ini": "[DEFAULT]\nsources = ./migrations\n",
        "migrations/0005.podcast.sql": "create table podcast (id int);\n",
        "migrations/0005.podcast.rollback.sql": "drop table podcast;\n",
        "migrations/0006.survey.sql": "create table survey (id int);\n",
        "migrations/0006.survey.rollback..sql": "drop table survey;\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert [m.id for m in found.migrations] == ["0005.podcast", "0006.survey.rollback.", "0006.survey"]
    [naming] = [r for r in check_naming(found, Settings()) if r.status is Status.FAILED]
    assert naming.message == ("0006.survey.rollback..sql: named as the rollback of 0006.survey, but yoyo runs it forward,"
                              " as a migration of its own, before 0006.survey: name it 0006.survey.rollback.sql.")


@pytest.mark.parametrize("sources", ["./migrations", "migr*"])  # a glob names it as well
def test_a_yoyo_ini_whose_database_is_sqlite_holds_another_databases_migrations(tmp_path: Path, sources: str) -> None:
    # GeeTransit/joshgone: `database = sqlite:///%(JOSHGONE_DB)s`, and PRAGMA in its Python steps.
    write_files(tmp_path, {
        "yoyo.ini": f"[DEFAULT]\nsources = {sources}\ndatabase = sqlite:///%(JOSHGONE_DB)s\n",
        "migrations/20210122_01_iH7wK-initial-tables.py": (
            "from yoyo import step\nsteps = [step('PRAGMA foreign_keys = ON', 'select 1')]\n"),
    })
    with pytest.raises(UsageError, match=r"holds migrations for SQLite \(yoyo.ini's `database` is a sqlite URL\)"):
        discover(tmp_path, repo_root=tmp_path)
