"""Alembic trees that are alternative histories of one schema (aiidateam/aiida-core's django,
sqlalchemy and main bases, each creating db_dbuser) are each replayed in a fresh database, as
`alembic upgrade <label>@head` runs one alone; independent trees stay in one replay, as
`alembic upgrade heads` runs them."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from conftest import replayed, write_files
from migration_check.discovery import discover
from migration_check.discovery.alembic_histories import Revision, alternative_histories, shared_tables, trees_of
from migration_check.model import Migration, RunReport, Script
from migration_check.replay.runner import Replay
from migration_check.reports.markdown import render
from migration_check.reports.run_json import as_json
from migration_check.servers.base import Database
from migration_check.servers.url import UrlProvider
from migration_check.settings import Settings
from migration_check.testing.database import MigrationDatabase, MigrationError
from test_discovery_alembic import revision


def labelled(rev: str, down: str | None, label: str | None, upgrade: str, downgrade: str) -> str:
    text = revision(rev, down, upgrade=upgrade, downgrade=downgrade)
    return text.replace("branch_labels = None", f"branch_labels = ({label!r},)") if label else text


def users(extra: str = "") -> str:
    return f"op.create_table('users', sa.Column('id', sa.Integer, primary_key=True){extra})"


def migration(version: str, sql: str) -> Migration:
    return Migration(version, version, (0,), Script(Path(f"{version}.py"), sql))


def test_trees_are_what_down_revisions_and_dependencies_join() -> None:
    revisions = [Revision("a", labels=("core",)), Revision("x", labels=("legacy",)), Revision("b", ("a",)),
                 Revision("y", ("x",)), Revision("c", ("b", "y"))]
    assert trees_of(revisions) == [["a", "x", "b", "y", "c"]]  # a merge joins them
    revisions[-1] = Revision("c", ("b",))
    assert trees_of(revisions) == [["a", "b", "c"], ["x", "y"]]
    assert trees_of([Revision("a"), Revision("z", ("a",))]) == [["a", "z"]]  # (a dependency is read so too)
    assert shared_tables([frozenset({"t", "u"}), frozenset({"v"}), frozenset({"u", "v"})]) == ["u", "v"]


def test_trees_that_create_the_same_table_are_histories_of_their_own() -> None:
    migrations = [migration("m1", "CREATE TABLE users (id int)"), migration("d1", "CREATE TABLE users (id int)"),
                  migration("m2", "ALTER TABLE users ADD c int"), migration("d2", "CREATE TABLE extra (id int)")]
    revisions = [Revision("m1", labels=("main",)), Revision("d1", labels=("django",)), Revision("m2", ("m1",)),
                 Revision("d2", ("d1",))]
    found = alternative_histories(migrations, revisions)
    assert [(m.version, m.history) for m in found.migrations] == [
        ("m1", "main"), ("m2", "main"), ("d1", "django"), ("d2", "django")]
    assert "2 revision trees share no revision and create the same tables (users)" in found.reason
    assert "`alembic upgrade main@head` runs one alone: main (2), django (2)" in found.reason
    # IF NOT EXISTS does not collide; nor do trees of tables of their own, which live side by side.
    migrations[1] = migration("d1", "CREATE TABLE IF NOT EXISTS users (id int)")
    kept = alternative_histories(migrations, revisions)
    assert kept.migrations == migrations and kept.reason == ""
    unlabelled = [Revision("m1"), Revision("d1"), Revision("m2", ("m1",)), Revision("d2", ("d1",))]
    migrations[1] = migration("d1", "CREATE TABLE public.users (id int)")
    assert {m.history for m in alternative_histories(migrations, unlabelled).migrations} == {"m1", "d1"}
    # Tables of one name in two schemas stand together: a tenant tree beside the public one.
    migrations[1] = migration("d1", "CREATE TABLE tenant.users (id int)")
    assert alternative_histories(migrations, unlabelled).reason == ""


def test_alternative_histories_each_pass_in_a_database_of_their_own(tmp_path: Path, pg_server: Database) -> None:
    (tmp_path / ".git").mkdir()
    write_files(tmp_path / "versions", {
        "main_0001.py": labelled("main_0001", None, "main", users(", sa.Column('email', sa.Text)"),
                                 "op.drop_table('users')"),
        "main_0002.py": labelled("main_0002", "main_0001", None, "op.add_column('users', sa.Column('n', sa.Integer))",
                                 "op.drop_column('users', 'n')"),
        "django_0001.py": labelled("django_0001", None, "django", users(), "op.drop_table('users')"),
        "django_0002.py": labelled("django_0002", "django_0001", None,
                                   "op.add_column('users', sa.Column('email', sa.Text))",
                                   "op.drop_column('users', 'email')"),
    })
    project = discover(tmp_path / "versions", "alembic")
    assert [m.history for m in project.migrations] == ["main", "main", "django", "django"]
    # The reports say so too.
    assert "Histories: 2 revision trees share no revision and create the same tables (users)" in render(RunReport(project, []))
    assert json.loads(as_json(RunReport(project, [])))["project"]["histories"]["django_0002"] == "django"
    with UrlProvider(pg_server.conninfo) as database, psycopg.connect(database.conninfo, autocommit=True) as conn:
        replay = Replay(project, conn, Settings())
        replay.run_setup([])
        cases = [(r.subject, r.check, r.status.value, r.message or "") for o in replay.outcomes() for r in o.results]
        # The last history is the database the run ends on (drift reads it): django's columns.
        columns = {row[0] for row in replay.conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'")}
        run_results = {r.subject: r.status.value for r in replay.run_results}
        replay.close()
    assert not [case for case in cases if case[2] not in ("passed", "skipped")], cases
    assert {case[0] for case in cases if case[1] == "apply" and case[2] == "passed"} == {
        "main_0001", "main_0002", "django_0001", "django_0002"}
    assert columns == {"id", "email"}
    # Every pending revision in one transaction, as the default env.py runs them: per history.
    assert run_results == {"every migration of the main history in one transaction": "passed",
                           "every migration of the django history in one transaction": "passed"}


def test_the_pytest_plugins_database_follows_one_history(tmp_path: Path, pg_server: Database) -> None:
    write_files(tmp_path / "versions", {
        "main_0001.py": labelled("main_0001", None, "main", users(", sa.Column('email', sa.Text)"), "op.drop_table('users')"),
        "django_0001.py": labelled("django_0001", None, "django", users(), "op.drop_table('users')"),
        "django_0002.py": labelled("django_0002", "django_0001", None,
                                   "op.add_column('users', sa.Column('email', sa.Text))", "op.drop_column('users', 'email')"),
    })
    project = discover(tmp_path / "versions", "alembic")
    with UrlProvider(pg_server.conninfo) as database, psycopg.connect(database.conninfo, autocommit=True) as conn:
        migrated = MigrationDatabase(project, conn).migrate("django_0002")
        assert [m.version for m in migrated.applied] == ["django_0001", "django_0002"]
        with pytest.raises(MigrationError, match="main_0001 is in the main history; this database follows the django one"):
            migrated.migrate("main_0001")
        migrated.rollback()
        assert [m.version for m in migrated.migrate().applied] == ["django_0001", "django_0002"]  # the last history


def test_independent_trees_are_replayed_together_as_upgrade_heads_runs_them(tmp_path: Path,
                                                                             pg_server: Database) -> None:
    write_files(tmp_path / "versions", {
        "core.py": labelled("c1", None, "core", users(), "op.drop_table('users')"),
        "net.py": labelled("n1", None, "networking",
                           "op.create_table('hosts', sa.Column('id', sa.Integer, primary_key=True))",
                           "op.drop_table('hosts')"),
        "more.py": labelled("n2", "n1", None, "op.add_column('hosts', sa.Column('users', sa.Integer))",
                            "op.drop_column('hosts', 'users')"),
    })
    cases, _ = replayed(pg_server, tmp_path, [], layout="alembic", directory="versions")
    assert not [case for case in cases if case[2] not in ("passed", "skipped")], cases
    assert not any(m.history for m in discover(tmp_path / "versions", "alembic").migrations)
