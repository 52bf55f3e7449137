"""The pytest plugin (issue 16), with pytester: a project with only its migrations and a test file
runs its tests against a disposable PostgreSQL, through the installed `pytest11` entry point, and
leaves nothing behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from migration_check.servers.local import OWNER_FILE, TEMP_PREFIX
from migration_check.servers.run_directory import RAM_DIRECTORY

MIGRATIONS = {
    "migrations/20250901090000_create_users.sql":
        "create table users (id bigint generated always as identity primary key, email text not null unique);\n",
    "migrations/20250901090000_create_users_rollback.sql": "drop table users;\n",
    "migrations/20250906120000_add_domain.sql":
        "alter table users add column domain text;\nupdate users set domain = split_part(email, '@', 2);\n",
    "migrations/20250906120000_add_domain_rollback.sql": "alter table users drop column domain;\n",
}
TEAM_TESTS = '''
def test_tables_after_the_baseline(migration_db):
    migration_db.migrate(to="20250901090000")
    assert "public.users" in migration_db.tables()
    assert migration_db.version == "20250901090000"


def test_the_backfill_fills_every_row(migration_db):
    migration_db.migrate(to="20250901090000")
    migration_db.execute("insert into users (email) values (%s), (%s)", ["a@example.com", "b@example.org"])
    migration_db.migrate()
    assert migration_db.execute("select count(*) from users where domain is null") == [(0,)]


def test_rolling_back_keeps_the_users(migration_db):
    migration_db.migrate()
    migration_db.execute("insert into users (email) values ('c@example.com')")
    migration_db.rollback(to="20250901090000")
    assert migration_db.execute("select email from users") == [("c@example.com",)]
    assert migration_db.version == "20250901090000"


def test_each_test_starts_from_an_empty_database(migration_db):
    assert migration_db.version is None and "public.users" not in migration_db.tables()


def test_every_migration_has_a_rollback(migrations):
    assert all(m.down is not None for m in migrations.migrations)
'''


def project(pytester: pytest.Pytester, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = pytester.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def leftovers() -> set[str]:
    """Server directories whose owning process is gone: what a run left behind (another run's
    directories, while it is alive, are not)."""
    found = set()
    for folder in [*Path(tempfile.gettempdir()).glob(TEMP_PREFIX + "*"), *Path(RAM_DIRECTORY).glob(TEMP_PREFIX + "*")]:
        owner = folder / OWNER_FILE
        try:
            os.kill(int(owner.read_text()), 0)
        except (OSError, ValueError):
            found.add(folder.name)
    return found


def test_a_team_s_tests_run_against_a_disposable_postgres(pytester: pytest.Pytester) -> None:
    # No configuration at all: the migrations are found from the rootdir, as the CLI finds them.
    project(pytester, {**MIGRATIONS, "tests/test_migrations.py": TEAM_TESTS})
    before = leftovers()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)
    assert leftovers() <= before  # the server and its temp dir are gone


def test_the_directory_from_the_ini_options(pytester: pytest.Pytester) -> None:
    project(pytester, {**{f"db/{k}": v for k, v in MIGRATIONS.items()}, "examples/other/migrations/20200101000000_x.sql": "select 1;\n",
                       "tests/test_it.py": "def test_it(migrations):\n    assert len(migrations.migrations) == 2\n",
                       "pyproject.toml": '[tool.pytest.ini_options]\nmigrations = "db/migrations"\n'})
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_migration_that_fails_fails_the_test_at_its_file_and_line(pytester: pytest.Pytester) -> None:
    project(pytester, {**MIGRATIONS, "migrations/20250906120000_add_domain.sql": "alter table users add column domain text;\nalter table nope add column x int;\n",
                       "tests/test_it.py": "def test_all(migration_db):\n    migration_db.migrate()\n"})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--migrations", "migrations")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(['*20250906120000_add_domain does not apply: migrations/20250906120000_add_domain.sql:2:*'
                                 'relation "nope" does not exist*'])


def test_the_builtin_checks_become_test_items(pytester: pytest.Pytester) -> None:
    broken = {**MIGRATIONS, "migrations/20250906120000_add_domain_rollback.sql": "select 1;\n"}  # forgets the column
    project(pytester, {**broken, "tests/test_nothing.py": "def test_nothing():\n    pass\n"})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--migrations", "migrations",
                                           "--migration-check-builtin", "-rf")
    result.stdout.fnmatch_lines(["*FAILED*migration-check[[]roundtrip:20250906120000_add_domain[]]*"])
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] >= 1 and outcomes["passed"] >= 10
