"""Every layout end to end: the CLI, in process, over each fixture project on the real test
PostgreSQL. Each project is copied to a fresh git repository of its own, so JUnit `file`
attributes are relative to the project's root.

Cases: `clean` passes (exit 0), `forgotten` has a rollback that leaves an object behind (exit 1,
the round trip names the rollback file and the object), `broken` has a syntax error at a known line
(exit 1, the apply case names file and line)."""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import FIXTURES, write_files
from migration_check.cli import main

LAYOUTS = FIXTURES / "layouts"

BROKEN = {  # format -> (file, line) of the syntax error
    "alembic": ("alembic/versions/5d8f2a1c9e07_add_coupons.py", 19),
    "atlas": ("migrations/20240108100000_add_coupons.sql", 3),
    "bun-migrate": ("migrations/20240108100000_add_coupons.up.sql", 3),
    "db-migrate": ("migrations/sqls/20240108100000-add-coupons-up.sql", 3),
    "dbmate": ("db/migrations/20240108100000_add_coupons.sql", 5),
    "diesel": ("migrations/2024-01-08-100000_add_coupons/up.sql", 3),
    "drizzle": ("drizzle/0002_spring_coupons.sql", 3),
    "flyway": ("src/main/resources/db/migration/V1_1__add_coupons.sql", 3),
    "golang-migrate": ("migrations/20240108100000_add_coupons.up.sql", 3),
    "maragu-migrate": ("store/postgres/0003_add_coupons.up.sql", 3),
    "latest-sql": ("store/migration/postgres/LATEST.sql", 3),
    "mikro-orm": ("src/migrations/Migration20240108100000_coupons.ts", 8),
    "goose": ("db/migrations/20240108100000_add_coupons.sql", 7),
    "graphile-migrate": ("migrations/committed/000002-coupons.sql", 7),
    "hasura": ("hasura/migrations/default/1704708000000_add_coupons/up.sql", 3),
    "knex": ("migrations/20240108100000_add_coupons.js", 6),
    "kysely": ("src/migrations/2024_01_08_add_coupons.ts", 6),
    "liquibase": ("src/main/resources/db/changelog/changes/004-add-coupons.sql", 5),
    "node-pg-migrate": ("migrations/1704708000000_add-coupons.sql", 3),
    "numbered": ("migrations/4-add-coupons.sql", 3),
    "pop": ("migrations/20240108100000_add_coupons.up.sql", 3),
    "postgres-migrations": ("migrations/0002-add-coupons.sql", 4),
    "postgrator": ("migrations/002.do.add-coupons.sql", 4),
    "prisma": ("prisma/migrations/20240107100000_add_coupons/migration.sql", 3),
    "refinery": ("catalog/migrations/V2__add_coupons.sql", 4),
    "sequelize": ("migrations/20240108100000-add-coupons.js", 6),
    "sqitch": ("deploy/coupons.sql", 4),
    "sql-migrate": ("db/migrations/20240108100000-add_coupons.sql", 7),
    "sqlx": ("migrations/20240108100000_add_coupons.up.sql", 3),
    "supabase": ("supabase/migrations/20240107100000_add_coupons.sql", 3),
    "tern": ("migrations/004_add_coupons.sql", 4),
    "timestamp": ("migrations/20240108100000_add_coupons.sql", 3),
    "typeorm": ("src/migrations/1704708000000-AddCoupons.ts", 9),
    "yoyo": ("migrations/20240105_04_nO9pQ-add-coupons.sql", 5),
}
FORGOTTEN = {  # format -> (file of the statement that created what the rollback leaves behind, that object)
    "alembic": ("alembic/versions/3f1c2a9b7d10_create_customers.py", "touch_updated_at"),
    "bun-migrate": ("migrations/20240105100000_create_customers.up.sql", "touch_updated_at"),
    "db-migrate": ("migrations/sqls/20240105100000-create-customers-up.sql", "touch_updated_at"),
    "dbmate": ("db/migrations/20240105100000_create_customers.sql", "touch_updated_at"),
    "diesel": ("migrations/2024-01-05-100000_create_customers/up.sql", "touch_updated_at"),
    "flyway": ("src/main/resources/db/migration/V1__create_customers.sql", "touch_updated_at"),
    "golang-migrate": ("migrations/20240105100000_create_customers.up.sql", "touch_updated_at"),
    "maragu-migrate": ("store/postgres/0001_create_a_customers.up.sql", "touch_updated_at"),
    "mikro-orm": ("src/migrations/Migration20240105100000.ts", "touch_updated_at"),
    "goose": ("db/migrations/20240105100000_create_customers.sql", "touch_updated_at"),
    "hasura": ("hasura/migrations/default/1704448800000_create_customers/up.sql", "touch_updated_at"),
    "knex": ("migrations/20240105100000_create_customers.js", "touch_updated_at"),
    "kysely": ("src/migrations/2024_01_05_create_customers.ts", "touch_updated_at"),
    "liquibase": ("src/main/resources/db/changelog/changes/001-create-customers.sql", "touch_updated_at"),
    "node-pg-migrate": ("migrations/1704448800000_create-customers.sql", "touch_updated_at"),
    "numbered": ("migrations/001_create_customers.sql", "touch_updated_at"),
    "pop": ("migrations/20240105100000_create_customers.postgres.up.sql", "touch_updated_at"),
    "postgrator": ("migrations/001.do.create-customers.sql", "touch_updated_at"),
    "sequelize": ("migrations/20240105100000-create-customers.js", "touch_updated_at"),
    "sqitch": ("deploy/customers.sql", "order_status"),
    "sql-migrate": ("db/migrations/20240105100000-create_customers.sql", "touch_updated_at"),
    "sqlx": ("migrations/20240105100000_create_customers.up.sql", "touch_updated_at"),
    "supabase": ("supabase/migrations/20240105100000_create_profiles.sql", "handle_new_user"),
    "tern": ("migrations/001_create_customers.sql", "touch_updated_at"),
    "timestamp": ("migrations/20240105100000_create_customers.sql", "touch_updated_at"),
    "typeorm": ("src/migrations/1704448800000-CreateCustomers.ts", "touch_updated_at"),
    "yoyo": ("migrations/20240105_01_aB3dE-create-customers.sql", "touch_updated_at"),
}
SKIPPED = {  # format -> words of a skip reason the clean run must report
    "atlas": "forward-only (atlas: no migration here has a rollback)",
    "goose": "Go migration",
    "graphile-migrate": "forward-only (graphile-migrate: no migration here has a rollback)",
    "latest-sql": "upgrade only: memos' migrator runs it on databases from before 0.2.2",
    "flyway": "Java/Kotlin migration",
    "prisma": "forward-only (prisma: no migration here has a rollback)",
    "postgres-migrations": "forward-only (postgres-migrations: no migration here has a rollback)",
    "refinery": "forward-only (refinery: no migration here has a rollback)",
    "drizzle": "forward-only (drizzle: no migration here has a rollback)",
    "supabase": "forward-only (supabase: no migration here has a rollback)",
}


def projects(case: str) -> list[Path]:
    return sorted(p for p in LAYOUTS.glob(f"*/{case}") if p.is_dir())


def run(project: Path, tmp_path: Path, conninfo: str) -> tuple[int, str, ET.Element]:
    root = tmp_path / "repo"
    shutil.copytree(project, root)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    report = tmp_path / "r.xml"
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        code = main(["check", str(root), "--database-url", conninfo, "--junit-xml", str(report)])
    return code, output.getvalue(), ET.parse(report).getroot()


def failures(report: ET.Element) -> list[ET.Element]:
    return [case for case in report.iter("testcase") if case.find("failure") is not None]


def failing_cases(project: Path, tmp_path: Path, conninfo: str, check: str) -> list[ET.Element]:
    """Runs a project that must fail (exit 1, its format named) and returns its failing `check` cases."""
    code, output, report = run(project, tmp_path, conninfo)
    assert code == 1, output
    assert f"format: {project.parent.name}:" in output
    return [c for c in failures(report) if c.get("classname") == f"migration_check.{check}"]


@pytest.mark.parametrize("project", projects("clean"), ids=lambda p: p.parent.name)
def test_clean_projects_pass(project: Path, tmp_path: Path, pg_server) -> None:
    code, output, report = run(project, tmp_path, pg_server.conninfo)
    assert code == 0, output
    assert f"format: {project.parent.name}:" in output
    assert failures(report) == []
    assert any(case.get("classname") == "migration_check.apply" for case in report.iter("testcase"))
    words = SKIPPED.get(project.parent.name)
    if words:
        reasons = [s.get("message", "") for s in report.iter("skipped")]
        assert any(words in reason for reason in reasons), reasons


@pytest.mark.parametrize("project", projects("forgotten"), ids=lambda p: p.parent.name)
def test_forgotten_rollbacks_fail_the_round_trip(project: Path, tmp_path: Path, pg_server) -> None:
    expected_file, left_behind = FORGOTTEN[project.parent.name]
    roundtrip = failing_cases(project, tmp_path, pg_server.conninfo, "roundtrip")
    assert [c.get("file") for c in roundtrip] == [expected_file]
    assert left_behind in roundtrip[0].find("failure").get("message")


@pytest.mark.parametrize("project", projects("broken"), ids=lambda p: p.parent.name)
def test_broken_sql_fails_at_file_and_line(project: Path, tmp_path: Path, pg_server) -> None:
    expected_file, line = BROKEN[project.parent.name]
    applied = failing_cases(project, tmp_path, pg_server.conninfo, "apply")
    assert [(c.get("file"), c.get("line")) for c in applied] == [(expected_file, str(line))]
    assert f"{expected_file}:{line}:" in applied[0].find("failure").get("message")


def test_every_layout_has_all_its_cases() -> None:
    formats = sorted(p.name for p in LAYOUTS.iterdir())
    assert formats == sorted(BROKEN)
    assert sorted(p.parent.name for p in projects("clean")) == formats
    assert sorted(p.parent.name for p in projects("forgotten")) == sorted(FORGOTTEN)  # all but forward-only ones


def test_node_pg_migrate_in_the_schema_the_project_sets(tmp_path: Path, pg_server) -> None:
    # JunCLi/bazaar-server: config/default.json's `db.schema` with `--create-schema`: node-pg-migrate
    # creates the schema and sets the search_path to it alone; its history table lands there too.
    project = write_files(tmp_path / "project", {
        "config/default.json": '{"db": {"schema": "bazaar"}}',
        "package.json": '{"scripts": {"db:up": "node-pg-migrate up --create-schema"}, "dependencies": {"node-pg-migrate": "^7"}}',
        "migrations/1550779717609_init.js": ("exports.up = (pgm) => {\n  pgm.createTable('users', { id: 'id', email: 'text' });\n};\n"),
        "migrations/1550779717610_index.sql": ("-- Up Migration\ncreate index users_email on users (email);\n"
                                               "-- Down Migration\ndrop index bazaar.users_email;\n"),
    })
    code, output, report = run(project, tmp_path / "run", pg_server.conninfo)
    assert code == 0, output
    assert "setup: as node-pg-migrate does with the schema config/default.json gives, creates bazaar" in output
    assert failures(report) == []


def test_a_schema_nobody_creates_stops_the_run_as_it_stops_the_runner(tmp_path: Path, pg_server) -> None:
    # `-s nowhere` without --create-schema: node-pg-migrate cannot make its pgmigrations table either.
    project = write_files(tmp_path / "project", {
        "package.json": '{"scripts": {"m": "node-pg-migrate -s nowhere up"}, "dependencies": {"node-pg-migrate": "^7"}}',
        "migrations/1700000000000_a.js": "exports.up = (pgm) => { pgm.sql('create table t (id int)'); };\n",
    })
    code, output, _ = run(project, tmp_path / "run", pg_server.conninfo)
    assert code == 2
    assert ("error: the runner's history table (pgmigrations) cannot be made here: no schema has been selected to"
            " create in; the runner fails the same way before its first migration") in output
