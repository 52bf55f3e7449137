"""Each runner's own rules, not stricter ones (issue 9.2): every project here is one its own runner
accepts, each reproducing a false alarm found on real repositories. Through the CLI, on a real
PostgreSQL: each must exit 0 with no failing case, and warnings only where the runner ignores a file."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import FIXTURES, write_files
from migration_check.cli import main
from migration_check.servers.base import Database

PLAN_HEAD = "%syntax-version=1.0.0\n%project=shop\n\n"
STAMP = "2024-01-05T10:00:00Z Ada <ada@example.com>"

PROJECTS: dict[str, tuple[str, dict[str, str]]] = {
    # golang-migrate: any name after the version; a down pairs with the up of its version whatever
    # its name; versions compare as numbers (9 before 10).
    "golang-migrate-names-and-numbers": ("golang-migrate", {
        "migrations/1_create-users.up.sql": "create table users (id int);",
        "migrations/1_drop_users.down.sql": "drop table users;",
        "migrations/9_AddEmail.up.sql": "alter table users add column email text;",
        "migrations/9_AddEmail.down.sql": "alter table users drop column email;",
        "migrations/10_2fa.up.sql": "alter table users add column otp text;",
        "migrations/10_2fa.down.sql": "alter table users drop column otp;",
        "migrations/atlas.sum": "h1:abc=\n",
    }),
    # Flyway runs a script of statements PostgreSQL refuses in a transaction outside one; one that
    # mixes them with others only with `mixed` (here Spring Boot's spring.flyway.mixed).
    "flyway-mixed-allowed": ("flyway", {
        "src/main/resources/application.properties": "spring.datasource.url=jdbc:postgresql://db/app\nspring.flyway.mixed=true\n",
        "src/main/resources/db/migration/V1__users.sql": "create table users (id int);",
        "src/main/resources/db/migration/V2__index.sql": "create table t (a int);\ncreate index concurrently t_a on t (a);",
        "src/main/resources/db/migration/V3__lone_index.sql": "create index concurrently users_id on users (id);",
    }),
    # The Supabase CLI (v2.109 and later: supabase/cli#5671, #6276) runs the statements that cannot
    # run in a transaction block outside its migration batch (moonklabs/sprintable builds several
    # indexes CONCURRENTLY in one migration and pushes it with `supabase db push`).
    "supabase-concurrent-indexes": ("supabase", {
        "supabase/migrations/20240101000000_users.sql": "create table public.users (id int, email text);",
        "supabase/migrations/20240102000000_users_indexes.sql": (
            "create index concurrently users_id on public.users (id);\n"
            "create index concurrently users_email on public.users (email);\n"
            "drop index concurrently users_id;\ncomment on index public.users_email is 'x';"),
    }),
    # yoyo imports a Python migration and runs the SQL its step() calls give (gpu-mode/kernelbot:
    # 29 such migrations, before skipped whole): literals, names bound to them, keyword arguments,
    # groups; `__transactional__ = False` runs each step on its own (CONCURRENTLY); `__depends__`
    # orders them.
    "yoyo-python-steps": ("yoyo", {
        "migrations/20240101_01_aaaaa-users.py": (
            'from yoyo import step\n\n__depends__ = {}\n\nUSERS = """\n    CREATE TABLE users (id int PRIMARY KEY)\n"""\n\n'
            'steps = [\n    step(USERS, "DROP TABLE users"),\n'
            '    step(apply="ALTER TABLE users ADD COLUMN email text",\n         rollback="ALTER TABLE users DROP COLUMN email"),\n]\n'),
        "migrations/20240101_02_bbbbb-index.py": (
            'from yoyo import step\n\n__depends__ = {"20240101_03_ccccc-names"}\n__transactional__ = False\n\n'
            'steps = [step("CREATE INDEX CONCURRENTLY users_name ON users (name)",\n'
            '              "DROP INDEX CONCURRENTLY users_name")]\n'),
        "migrations/20240101_03_ccccc-names.py": (
            'from yoyo import group, step\n\n__depends__ = "20240101_01_aaaaa-users"\n\n'
            'steps = [group(\n    step("ALTER TABLE users ADD COLUMN name text " "NOT NULL DEFAULT \'\'",\n'
            '         "ALTER TABLE users DROP COLUMN name"),\n'
            '    step("COMMENT ON COLUMN users.name IS \'shown\'", None),\n)]\n'),
    }),
    # Flyway runs outside a transaction a script of statements its parser recognises as such
    # (PostgreSQLParser.detectCanExecuteInTransaction): REINDEX SCHEMA, VACUUM.
    "flyway-recognised-outside": ("flyway", {
        "db/migration/V1__users.sql": "create table users (id int primary key);",
        "db/migration/V2__reindex.sql": "reindex schema public;",
        "db/migration/V3__vacuum.sql": "vacuum analyze users;",
    }),
    # Prisma 7.5 and later split a migration.sql and run each statement on its own (prisma-engines
    # #5767): an enum value added is usable by the next statement, which one transaction refuses
    # (umami and hoppscotch lock prisma 7.6 and 7.8 in pnpm-lock.yaml).
    "prisma-7-split-statements": ("prisma", {
        "package.json": '{"dependencies": {"@prisma/client": "^7.6.0"}, "devDependencies": {"prisma": "^7.6.0"}}',
        "pnpm-lock.yaml": "lockfileVersion: '9.0'\n\npackages:\n\n  prisma@7.6.0:\n    resolution: {integrity: x}\n",
        "prisma/migrations/migration_lock.toml": 'provider = "postgresql"\n',
        "prisma/migrations/20240101000000_init/migration.sql": (
            "CREATE TYPE \"Mood\" AS ENUM ('happy');\nCREATE TABLE \"User\" (id int, mood \"Mood\");"),
        "prisma/migrations/20240102000000_sad/migration.sql": (
            "ALTER TYPE \"Mood\" ADD VALUE 'sad';\nUPDATE \"User\" SET mood = 'sad';"),
    }),
    # golang-migrate sends a file as one query: a lone CREATE INDEX CONCURRENTLY runs outside any
    # transaction (several statements in one file would be one implicit transaction).
    "golang-migrate-lone-concurrent-index": ("golang-migrate", {
        "migrations/1_users.up.sql": "create table users (id int);",
        "migrations/1_users.down.sql": "drop table users;",
        "migrations/2_users_id.up.sql": "create index concurrently users_id on users (id);",
        "migrations/2_users_id.down.sql": "drop index concurrently users_id;",
    }),
    # golang-migrate runs an empty migration for a missing down file (its own postgres examples).
    "golang-migrate-missing-down": ("golang-migrate", {
        "migrations/1_create_users.up.sql": "create table users (id int);",
        "migrations/1_create_users.down.sql": "drop table users;",
        "migrations/2_just_a_comment.up.sql": "-- nothing to do\n",
    }),
    # dbmate: ^(\d+).*\.sql$, anything after the version; other files are ignored.
    "dbmate-free-names": ("dbmate", {
        "db/migrations/001-create-users.sql": "-- migrate:up\ncreate table users (id int);\n-- migrate:down\ndrop table users;\n",
        "db/migrations/002_AddEmail.sql": "-- migrate:up\nalter table users add column email text;\n"
                                          "-- migrate:down\nalter table users drop column email;\n",
        "db/migrations/notes.txt": "not a migration\n",
    }),
    # goose: <int64>_<anything>.sql; README and other extensions ignored.
    "goose-free-names": ("goose", {
        "migrations/00001_Init-Schema.sql": "-- +goose Up\ncreate table users (id int);\n-- +goose Down\ndrop table users;\n",
        "migrations/00002_2fa.sql": "-- +goose Up\nalter table users add column otp text;\n"
                                    "-- +goose Down\nalter table users drop column otp;\n",
        "migrations/README.md": "# migrations\n",
    }),
    # goose: a file without -- +goose Down has an empty down (goose's own integration migrations).
    "goose-no-down-section": ("goose", {
        "migrations/00001_table.sql": "-- +goose Up\ncreate table users (id int);\n-- +goose Down\ndrop table users;\n",
        "migrations/00002_empty.sql": "-- +goose Up\n",
    }),
    # Flyway: any description, versions compare as numbers.
    "flyway-numbers": ("flyway", {
        "db/migration/V9__Create users.sql": "create table users (id int);",
        "db/migration/V10__add-email.sql": "alter table users add column email text;",
        "db/migration/V10.1__Add_index.sql": "create index users_email on users (email);",
    }),
    # Prisma: a migration is its whole directory name: one timestamp, two migrations.
    "prisma-same-timestamp": ("prisma", {
        "prisma/migrations/20240101000000_init/migration.sql": "create table users (id int);",
        "prisma/migrations/20240101000000_init_posts/migration.sql": "create table posts (id int);",
        "prisma/migrations/migration_lock.toml": 'provider = "postgresql"\n',
    }),
    # sqitch: change names may hold `.` and `/`.
    "sqitch-dotted-names": ("sqitch", {
        "sqitch.plan": PLAN_HEAD + f"schemas/app.users {STAMP} # users\n",
        "deploy/schemas/app.users.sql": "begin;\ncreate table users (id int);\ncommit;\n",
        "revert/schemas/app.users.sql": "begin;\ndrop table users;\ncommit;\n",
    }),
    # sqitch: a reworked change's old scripts carry the newest tag before the rework whose file
    # exists (sqitch's rework tags), not the first tag after it (theory/sqitch-intro).
    "sqitch-rework-after-two-tags": ("sqitch", {
        "sqitch.plan": PLAN_HEAD + f"users {STAMP} # users\n@v1 {STAMP} # one\nposts {STAMP} # posts\n@v2 {STAMP} # two\n"
                                   f"users [users@v2] {STAMP} # users again\n",
        "deploy/users@v2.sql": "create table users (id int);\n",
        "revert/users@v2.sql": "drop table users;\n",
        "deploy/posts.sql": "create table posts (id int);\n",
        "revert/posts.sql": "drop table posts;\n",
        "deploy/users.sql": "alter table users add column email text;\n",
        "revert/users.sql": "alter table users drop column email;\n",
    }),
    # yoyo: `yoyo new` without -m writes <date>_<nn>_<rand>.sql, with no message.
    "yoyo-no-message": ("yoyo", {
        "migrations/20250101_01_AbCdE.sql": "create table users (id int);",
        "migrations/20250101_01_AbCdE.rollback.sql": "drop table users;",
        "migrations/20250102_01_xYz12-add-email.sql": "-- depends: 20250101_01_AbCdE\nalter table users add column email text;",
        "migrations/20250102_01_xYz12-add-email.rollback.sql": "alter table users drop column email;",
    }),
    # Diesel: the version is the name up to its first `_`; diesel's own setup migration.
    "diesel-initial-setup": ("diesel", {
        "migrations/00000000000000_diesel_initial_setup/up.sql": "create table users (id int);",
        "migrations/00000000000000_diesel_initial_setup/down.sql": "drop table users;",
        "migrations/2024-01-01-000000_Add-Email/up.sql": "alter table users add column email text;",
        "migrations/2024-01-01-000000_Add-Email/down.sql": "alter table users drop column email;",
        "migrations/.keep": "",
    }),
    # Timestamped scripts that a psql loop runs forward only (jcom-dev/zmanim-lab): no rollback
    # file anywhere, so none is asked for.
    "timestamp-forward-only": ("timestamp", {
        "db/migrations/00000000000001_schema.sql": "create table users (id int);",
        "db/migrations/00000000000002_seed_data.sql": "insert into users values (1);",
    }),
    # diesel compares versions as text (Project-xS/xs-backend): an 18-digit version made by a newer
    # diesel CLI (`2026-02-12-064859-0000`) runs between the 14-digit ones its date falls between.
    "diesel-versions-as-text": ("diesel", {
        "migrations/2026-02-01-000000_users/up.sql": "create table users (id int);",
        "migrations/2026-02-01-000000_users/down.sql": "drop table users;",
        "migrations/2026-02-12-064859-0000_orders/up.sql": "create table orders (id int, user_id int);",
        "migrations/2026-02-12-064859-0000_orders/down.sql": "drop table orders;",
        "migrations/2026-03-13-200000_order_index/up.sql": "create index orders_user on orders (user_id);",
        "migrations/2026-03-13-200000_order_index/down.sql": "drop index orders_user;",
    }),
    # The timestamp convention of the design, with a made-up version that exists to sort first.
    "timestamp-sentinel-version": ("timestamp", {
        "migrations/00000000000000_baseline.sql": "create table users (id int);",
        "migrations/00000000000000_baseline_rollback.sql": "drop table users;",
        "migrations/20250101000000_add_email.sql": "alter table users add column email text;",
        "migrations/20250101000000_add_email_rollback.sql": "alter table users drop column email;",
    }),
    # A project's own runner keyed by number and direction (SylteA/Discord-Bot): a down pairs with
    # the up of its number whatever its name, the bootstrap script has none.
    "numbered-up-and-down": ("numbered", {
        "bot/migrations/000_up__migrations.sql": "create table migrations (id serial, version smallint);",
        "bot/migrations/001_up__create_db.sql": "create table users (id int);",
        "bot/migrations/001_down__delete_db.sql": "drop table users;",
        "bot/migrations/002_up__add_email.sql": "alter table users add column email text;",
        "bot/migrations/002_down__add_email.sql": "alter table users drop column email;",
        "bot/migrations/migration.py": "class Migration: ...\n",
    }),
    # Scripts psql runs one after another (0x0501/readest): any name after the number, no rollback,
    # a backfill in batches whose procedure commits, beside CREATE INDEX CONCURRENTLY.
    "numbered-psql-scripts": ("numbered", {
        "db/migrations/001_Create-Books.sql": "create table books (id int, synced_at timestamptz);",
        "db/migrations/002_backfill.sql": (
            "create procedure fill() language plpgsql as $$ begin update books set synced_at = now(); commit; end $$;\n"
            "call fill();\ndrop procedure fill();\ncreate index concurrently books_synced on books (synced_at);\n"),
        "db/migrations/010_add_title.sql": "alter table books add column title text;",
    }),
    # harness/harness: its first migration gives maragu's own table a primary key, with no rollback;
    # the runner's table is not the rollback's to restore, nor is the up again judged on it.
    "maragu-runners-own-table": ("maragu-migrate", {
        "migrations/0000_alter_table_migrations.up.sql": "ALTER TABLE migrations ADD PRIMARY KEY (version);",
        "migrations/0001_create_table_users.up.sql": "create table users (id int);",
        "migrations/0001_create_table_users.down.sql": "drop table users;",
    }),
}


def db_migrate_module(stem: str) -> str:
    """A db-migrate module that runs its two SQL files."""
    return (f"const read = (f) => require('fs').readFileSync(require('path').join(__dirname, 'sqls', f), 'utf8');\n"
            f"exports.up = (db) => db.runSql(read('{stem}-up.sql'));\nexports.down = (db) => db.runSql(read('{stem}-down.sql'));\n")


def failures_of(junit: ET.Element, check: str) -> list[tuple[str, str]]:
    """(case name, failure message) of each failing case of one check."""
    return [(c.attrib["name"], c.find("failure").attrib["message"]) for c in junit.iter("testcase")  # type: ignore[union-attr]
            if c.attrib["classname"] == f"migration_check.{check}" and c.find("failure") is not None]


def run(pg_server: Database, root: Path, layout: str, report: Path) -> tuple[int, ET.Element]:
    code = main(["check", str(root), "--format", layout, "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    return code, ET.parse(report).getroot()


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_what_the_runner_accepts_passes(pg_server: Database, tmp_path: Path, name: str) -> None:
    layout, files = PROJECTS[name]
    root = write_files(tmp_path / "repo", files)
    code, junit = run(pg_server, root, layout, tmp_path / "report.xml")
    failures = [(c.attrib["classname"], c.attrib["name"], c.find("failure").attrib["message"])
                for c in junit.iter("testcase") if c.find("failure") is not None]
    assert (code, failures) == (0, [])
    applied = [c for c in junit.iter("testcase") if c.attrib["classname"] == "migration_check.apply"]
    assert applied and all(c.find("skipped") is None for c in applied)


def test_a_prisma_data_migration_in_code_is_skipped_with_the_reason(pg_server: Database, tmp_path: Path) -> None:
    # formbricks keeps 25 `migration.ts` directories among 193: its own runner applies both kinds in
    # name order (prisma migrate deploy for the SQL, its script for the code); Prisma alone would
    # refuse them (P3015), so they are not stray files here.
    root = write_files(tmp_path / "repo", {
        "prisma/migrations/migration_lock.toml": 'provider = "postgresql"\n',
        "prisma/migrations/20240101000000_users/migration.sql": "CREATE TABLE users (id int, name text);",
        "prisma/migrations/20240102000000_backfill_names/migration.ts": "export default { run: async () => {} };\n",
        "prisma/migrations/20240102000000_backfill_names/utils.ts": "export const x = 1;\n",
        "prisma/migrations/20240103000000_email/migration.sql": "ALTER TABLE users ADD COLUMN email text;",
    })
    code, junit = run(pg_server, root, "prisma", tmp_path / "report.xml")
    assert (code, [c for c in junit.iter("testcase") if c.find("failure") is not None]) == (0, [])
    [apply] = [c for c in junit.iter("testcase")
               if c.attrib["classname"] == "migration_check.apply" and c.attrib["name"] == "20240102000000_backfill_names"]
    assert apply.find("skipped").attrib["message"].startswith("a data migration in code (migration.ts)")


def test_a_down_with_another_name_is_run_as_the_ups_rollback(pg_server: Database, tmp_path: Path) -> None:
    layout, files = PROJECTS["golang-migrate-names-and-numbers"]
    root = write_files(tmp_path / "repo", files)
    _, junit = run(pg_server, root, layout, tmp_path / "report.xml")
    [rollback] = [c for c in junit.iter("testcase")
                  if c.attrib["classname"] == "migration_check.rollback" and c.attrib["name"].startswith("1_")]
    assert rollback.find("skipped") is None and rollback.attrib["file"].endswith("1_drop_users.down.sql")


def test_a_file_the_runner_ignores_is_a_warning_not_a_failure(pg_server: Database, tmp_path: Path) -> None:
    layout, files = PROJECTS["dbmate-free-names"]
    root = write_files(tmp_path / "repo", files)
    _, junit = run(pg_server, root, layout, tmp_path / "report.xml")
    [notes] = [c for c in junit.iter("testcase") if c.attrib["name"] == "notes.txt"]
    assert notes.find("failure") is None
    assert (notes.findtext("system-out") or "").startswith("warning: notes.txt is not a migration (dbmate ignores it")


def test_strict_naming_is_opt_in_through_the_config(pg_server: Database, tmp_path: Path) -> None:
    layout, files = PROJECTS["golang-migrate-names-and-numbers"]
    root = write_files(tmp_path / "repo", {**files, ".migration-check.yml": "naming: strict\n"})
    code, junit = run(pg_server, root, layout, tmp_path / "report.xml")
    failed = sorted(c.attrib["name"] for c in junit.iter("testcase")
                    if c.attrib["classname"] == "migration_check.naming" and c.find("failure") is not None)
    assert code == 1 and failed == ["10_2fa.down.sql", "10_2fa.up.sql", "1_create-users.up.sql",
                                    "9_AddEmail.down.sql", "9_AddEmail.up.sql"]


def test_two_runs_give_the_same_junit_file_apart_from_time(pg_server: Database, tmp_path: Path) -> None:
    files = {**PROJECTS["timestamp-sentinel-version"][1],
             "migrations/2099010100000_future.sql": "select 1;", "migrations/notes.md": "x"}
    root = write_files(tmp_path / "repo", files)
    texts = []
    for attempt in range(2):
        report = tmp_path / f"report{attempt}.xml"
        main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
        texts.append(re.sub(r'time="[^"]*"', "", report.read_text()).replace(f"report{attempt}", "report"))
    assert texts[0] == texts[1]
    assert "migration_check_" not in texts[0]  # no random database name in any message


@pytest.mark.parametrize(("layout", "files"), [
    ("goose", {
        "migrations/00001_a.sql": "-- +goose Up\ncreate table a (id int);\n-- +goose Down\ndrop table a;\n",
        "migrations/00002_b.sql": "-- +goose Up\ncreate table b as select max(version_id) as v from goose_db_version;\n"
                                  "-- +goose Down\ndrop table b;\n",
    }),
    ("golang-migrate", {
        "migrations/1_a.up.sql": "create table a (id int);", "migrations/1_a.down.sql": "drop table a;",
        "migrations/2_b.up.sql": "create table b as select version as v from schema_migrations;",
        "migrations/2_b.down.sql": "drop table b;",
    }),
    ("dbmate", {
        "db/migrations/001_a.sql": "-- migrate:up\ncreate table a (id int);\n-- migrate:down\ndrop table a;\n",
        "db/migrations/002_b.sql": "-- migrate:up\ncreate table b as select max(version) as v from schema_migrations;\n"
                                   "-- migrate:down\ndrop table b;\n",
    }),
    ("db-migrate", {
        "migrations/20240101000000-a.js": db_migrate_module("20240101000000-a"),
        "migrations/sqls/20240101000000-a-up.sql": "create table a (id int);",
        "migrations/sqls/20240101000000-a-down.sql": "drop table a;",
        "migrations/20240102000000-b.js": db_migrate_module("20240102000000-b"),
        "migrations/sqls/20240102000000-b-up.sql": (
            "create table b as select name from migrations where name = '/20240101000000-a';\n"
            "do $$ begin if (select count(*) from b) <> 1 then raise 'not recorded'; end if; end $$;"),
        "migrations/sqls/20240102000000-b-down.sql": "drop table b;",
    }),
])
def test_migrations_see_the_runners_history_table(pg_server: Database, tmp_path: Path, layout: str,
                                                  files: dict[str, str]) -> None:
    # The second migration reads the runner's table, which must exist and hold the first one.
    root = write_files(tmp_path / "repo", files)
    code, junit = run(pg_server, root, layout, tmp_path / "report.xml")
    failures = [c.find("failure").attrib["message"] for c in junit.iter("testcase") if c.find("failure") is not None]
    assert (code, failures) == (0, [])


CONCURRENT_INDEX = "create index concurrently a_id on a (id);\n"
WRAPPED = {  # layout -> (files, the file and line of the CONCURRENTLY, words of the runner's opt-out)
    "dbmate": ({"db/migrations/001_a.sql": f"-- migrate:up\ncreate table a (id int);\n{CONCURRENT_INDEX}"
                                           "-- migrate:down\ndrop table a;\n"},
               "db/migrations/001_a.sql:3", "transaction:false"),
    "goose": ({"migrations/00001_a.sql": f"-- +goose Up\ncreate table a (id int);\n{CONCURRENT_INDEX}"
                                         "-- +goose Down\ndrop table a;\n"},
              "migrations/00001_a.sql:3", "-- +goose NO TRANSACTION"),
    "sqlx": ({"Cargo.toml": "[dependencies]\nsqlx = \"0.7\"\n",
              "migrations/1_a.up.sql": f"create table a (id int);\n{CONCURRENT_INDEX}",
              "migrations/1_a.down.sql": "drop table a;"}, "migrations/1_a.up.sql:2", "-- no-transaction"),
    "diesel": ({"migrations/2024-01-01-000000_a/up.sql": f"create table a (id int);\n{CONCURRENT_INDEX}",
                "migrations/2024-01-01-000000_a/down.sql": "drop table a;"},
               "migrations/2024-01-01-000000_a/up.sql:2", "run_in_transaction = false"),
    "yoyo": ({"migrations/0001_a.sql": f"create table a (id int);\n{CONCURRENT_INDEX}",
              "migrations/0001_a.rollback.sql": "drop table a;"}, "migrations/0001_a.sql:2", "-- transactional: false"),
    "golang-migrate": ({"migrations/1_a.up.sql": f"create table a (id int);\n{CONCURRENT_INDEX}",
                        "migrations/1_a.down.sql": "drop table a;"},
                       "migrations/1_a.up.sql:2", "x-multi-statement=true"),
    # Prisma up to 6.x sends a migration.sql whole (documenso's package-lock.json: prisma 6.19.3).
    "prisma": ({"package.json": '{"devDependencies": {"prisma": "^6.19.3"}}',
                "prisma/migrations/migration_lock.toml": 'provider = "postgresql"\n',
                "prisma/migrations/20240101000000_a/migration.sql": f"create table a (id int);\n{CONCURRENT_INDEX}"},
               "prisma/migrations/20240101000000_a/migration.sql:2", "Prisma 7.5 and later"),
    "db-migrate": ({"migrations/20240101000000-a.js": db_migrate_module("20240101000000-a"),
                    "migrations/sqls/20240101000000-a-up.sql": f"create table a (id int);\n{CONCURRENT_INDEX}",
                    "migrations/sqls/20240101000000-a-down.sql": "drop table a;"},
                   "migrations/sqls/20240101000000-a-up.sql:2", "non-transactional"),
}


@pytest.mark.parametrize("layout", sorted(WRAPPED))
def test_what_the_runners_transaction_refuses_fails_as_with_the_runner(pg_server: Database, tmp_path: Path,
                                                                         layout: str) -> None:
    # Each of these runners runs a migration in a transaction of its own unless it opts out: CREATE
    # INDEX CONCURRENTLY fails there, so it fails here, with the runner's way out.
    files, where, opt_out = WRAPPED[layout]
    root = write_files(tmp_path / "repo", files)
    code, junit = run(pg_server, root, layout, tmp_path / "report.xml")
    [apply] = [c for c in junit.iter("testcase") if c.attrib["classname"] == "migration_check.apply"]
    message = apply.find("failure").attrib["message"]
    assert code == 1 and message.startswith(f"{where}:1: ERROR 25001: CREATE INDEX CONCURRENTLY cannot run inside")
    assert f"({layout} " in message and "where PostgreSQL refuses this statement" in message and opt_out in message


NAKAMA_STYLE = ("create table users (name text);\ncommit;\ncreate index concurrently users_name on users (name);\n"
                "begin;\n")


@pytest.mark.parametrize(("layout", "files", "refused_at"), [
    # dbmate sends the section as one query: the index is refused after the file's COMMIT too.
    ("dbmate", {"db/migrations/20250101000000_a.sql": f"-- migrate:up\n{NAKAMA_STYLE}-- migrate:down\n"
                                                      "drop table users;\n"}, "db/migrations/20250101000000_a.sql:4"),
    # heroiclabs/nakama: sql-migrate sends the statements one by one, so the trick works there.
    ("sql-migrate", {"migrations/1_a.sql": f"-- +migrate Up\n{NAKAMA_STYLE}-- +migrate Down\ndrop table users;\n"},
     None),
])
def test_ending_the_runners_transaction_in_a_file_works_only_where_statements_are_sent_one_by_one(
        pg_server: Database, tmp_path: Path, layout: str, files: dict[str, str], refused_at: str | None) -> None:
    root = write_files(tmp_path / "repo", files)
    code, junit = run(pg_server, root, layout, tmp_path / "report.xml")
    failures = failures_of(junit, "apply")
    if refused_at is None:
        assert failures == []
        return
    [(_, apply)] = failures
    assert apply.startswith(f"{refused_at}:1: ERROR 25001: this statement cannot run inside a transaction block, and the"
                            " runner sends the whole file as one query")
    assert "(dbmate runs each migration in a transaction" in apply


@pytest.mark.parametrize(("sql", "error"), [
    ("reindex index concurrently a_id;", "ERROR 25001: REINDEX CONCURRENTLY cannot run inside a transaction block"),
    ("do $$ begin update a set id = id; commit; end $$;", "ERROR 2D000: invalid transaction termination"),
])
def test_what_flyways_parser_does_not_recognise_runs_in_its_transaction(pg_server: Database, tmp_path: Path,
                                                                      sql: str, error: str) -> None:
    # Flyway runs a script outside a transaction only for the statements its parser recognises; a
    # REINDEX INDEX CONCURRENTLY or a DO block that commits runs in its transaction and fails there.
    root = write_files(tmp_path / "repo", {
        "db/migration/V1__a.sql": "create table a (id int);\ncreate index a_id on a (id);",
        "db/migration/V2__b.sql": sql,
    })
    code, junit = run(pg_server, root, "flyway", tmp_path / "report.xml")
    [(_, message)] = failures_of(junit, "apply")
    assert code == 1 and message.startswith(f"db/migration/V2__b.sql:1:1: {error}")
    assert "(flyway runs each migration in a transaction unless its parser recognises" in message
    assert "executeInTransaction=false" in message


@pytest.mark.parametrize("where", [
    ("Makefile", "migrate:\n\tmigrate -path migrations -database \"$(DB_URL)&x-multi-statement=true\" up\n"),
    ("cmd/migrate/main.go", "driver, _ := postgres.WithInstance(db, &postgres.Config{MultiStatementEnabled: true})\n"),
])
def test_golang_migrates_multi_statement_mode_runs_statements_on_their_own(pg_server: Database, tmp_path: Path,
                                                                          where: tuple[str, str]) -> None:
    # With x-multi-statement, golang-migrate runs each statement on its own: CONCURRENTLY beside
    # other statements of its file runs, as it does for the project.
    root = write_files(tmp_path / "repo", {
        where[0]: where[1],
        "migrations/1_a.up.sql": f"create table a (id int);\n{CONCURRENT_INDEX}",
        "migrations/1_a.down.sql": "drop table a;",
    })
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    code, junit = run(pg_server, root, "golang-migrate", tmp_path / "report.xml")
    assert (code, failures_of(junit, "apply")) == (0, [])


def test_flyway_refuses_a_script_that_mixes_transactional_and_other_statements(pg_server: Database,
                                                                           tmp_path: Path) -> None:
    root = write_files(tmp_path / "repo", {
        "db/migration/V1__users.sql": "create table users (id int);",
        "db/migration/V2__index.sql": "alter table users add column email text;\n\ncreate index concurrently u_e on users (email);\n",
        "db/migration/V3__more.sql": "alter table users add column name text;",
    })
    code, junit = run(pg_server, root, "flyway", tmp_path / "report.xml")
    failed = failures_of(junit, "apply")
    assert code == 1 and [name for name, _ in failed] == ["2_index"]
    assert failed[0][1].startswith("db/migration/V2__index.sql:3:1: ERROR: Detected both transactional and non-transactional")
    assert "set flyway.mixed=true" in failed[0][1]


def test_a_rollback_that_sets_a_sequence_back_is_named_when_the_up_collides(pg_server: Database,
                                                                              tmp_path: Path) -> None:
    # Found on Raymond9734/Campaign-Messaging-Backend: a seed migration's rollback deletes its rows
    # with a pattern that misses some (`'+25471234500_'` matches 9 of 15) and restarts the
    # sequences, so the up run again takes the ids of the rows left.
    root = write_files(tmp_path / "repo", {
        "migrations/001_customers_up.sql": "create table customers (id serial primary key, phone text);",
        "migrations/001_customers_down.sql": "drop table customers;",
        "migrations/002_seed_up.sql": "insert into customers (phone) values ('+254712345009'), ('+254712345010');",
        "migrations/002_seed_down.sql": ("delete from customers where phone like '+25471234500_';\n\n"
                                         "alter sequence customers_id_seq restart with 1;\n"),
    })
    code, junit = run(pg_server, root, "numbered", tmp_path / "report.xml")
    [(_, reapply)] = failures_of(junit, "reapply")
    assert code == 1 and "ERROR 23505: duplicate key value violates unique constraint" in reapply
    assert reapply.endswith("(the rollback sets sequence customers_id_seq (line 3) back: the ids it hands out again"
                            " are taken by rows still in the table; leave the sequence where it is)")


def test_an_up_that_names_its_own_rows_by_id_is_told_the_sequence_goes_on(pg_server: Database,
                                                                           tmp_path: Path) -> None:
    # Julien-Goletto/cinevoraces-back (sqitch): a seed inserts users, then movies naming user 1; the
    # revert deletes the rows, and inserted again the users get ids 3 and 4.
    root = write_files(tmp_path / "repo", {
        "migrations/001_tables_up.sql": ("create table users (id int generated always as identity primary key, name text);\n"
                                         "create table movies (title text, user_id int references users);"),
        "migrations/001_tables_down.sql": "drop table movies;\ndrop table users;",
        "migrations/002_seed_up.sql": ("insert into users (name) values ('ada'), ('bob');\n"
                                       "insert into movies values ('Stalker', 1);"),
        "migrations/002_seed_down.sql": "delete from movies;\ndelete from users;",
    })
    code, junit = run(pg_server, root, "numbered", tmp_path / "report.xml")
    [(_, reapply)] = failures_of(junit, "reapply")
    assert code == 1 and "ERROR 23503: insert or update on table \"movies\" violates foreign key constraint" in reapply
    assert reapply.endswith("(the up inserts rows into users and then names them by id; the rollback deletes them, but"
                            " the sequence behind their ids goes on, so inserted again they get other ids: name the ids"
                            " in the up's INSERT, or restart the sequence in the rollback (TRUNCATE ... RESTART"
                            " IDENTITY, ALTER SEQUENCE ... RESTART))")


@pytest.mark.parametrize(("layout", "files", "why"), [
    # dani-garcia/vaultwarden keeps an empty down.sql for most column additions.
    ("diesel", {"migrations/2024-01-01-000000_users/up.sql": "create table users (id int);",
                "migrations/2024-01-01-000000_users/down.sql": "drop table users;",
                "migrations/2024-01-02-000000_email/up.sql": "alter table users add column email text;",
                "migrations/2024-01-02-000000_email/down.sql": "-- nothing\n"},
     "(migrations/2024-01-02-000000_email/down.sql holds no statement)"),
    ("goose", {"migrations/00001_users.sql": "-- +goose Up\ncreate table users (id int);\n-- +goose Down\ndrop table users;\n",
               "migrations/00002_email.sql": "-- +goose Up\nalter table users add column email text;\n"},
     "(goose runs nothing for it: the migration has no rollback)"),
    # hatchet-dev/hatchet: a -- +goose Down section with nothing in it.
    ("goose", {"migrations/00001_users.sql": "-- +goose Up\ncreate table users (id int);\n-- +goose Down\ndrop table users;\n",
               "migrations/00002_email.sql": ("-- +goose Up\nalter table users add column email text;\n\n-- +goose Down\n"
                                              "-- +goose StatementBegin\n-- +goose StatementEnd\n")},
     "(the rollback section of migrations/00002_email.sql, from line 5, holds no statement)"),
])
def test_a_rollback_that_does_nothing_says_so(pg_server: Database, tmp_path: Path, layout: str,
                                              files: dict[str, str], why: str) -> None:
    root = write_files(tmp_path / "repo", files)
    code, junit = run(pg_server, root, layout, tmp_path / "report.xml")
    [(_, roundtrip)] = failures_of(junit, "roundtrip")
    assert code == 1
    assert roundtrip.startswith(f"rollback is not the inverse of up {why}: column public.users.email")
    [reapply] = [case.find("skipped").attrib["message"] for case in junit.iter("testcase")
                 if case.attrib["classname"] == "migration_check.reapply" and case.find("skipped") is not None]
    # The rollback undoes nothing, so the object is what is named: not a rollback that is not there.
    assert reapply == (f"not judged {why}: column public.users.email, which the up makes, is still there"
                       " (see roundtrip), and so the up cannot run again")


def test_a_migration_that_drops_the_runners_table_fails_its_step(pg_server: Database, tmp_path: Path) -> None:
    root = write_files(tmp_path / "repo", {
        "db/migrations/001_a.sql": "-- migrate:up\ndrop table schema_migrations;\n-- migrate:down\nselect 1;\n",
    })
    code, junit = run(pg_server, root, "dbmate", tmp_path / "report.xml")
    [apply] = [c for c in junit.iter("testcase") if c.attrib["classname"] == "migration_check.apply"]
    assert code == 1
    assert "history table public.schema_migrations could not record this step" in apply.find("failure").attrib["message"]


def test_a_second_migration_of_one_version_fails_where_the_runner_records_it(pg_server: Database,
                                                                              tmp_path: Path) -> None:
    # lucasvrm/pipedesk-koa: `20251205_create_...` and `20251205_wire_...`; the Supabase CLI's history
    # insert refuses the second, and the later migrations still run.
    root = write_files(tmp_path / "repo", {
        "supabase/migrations/20251205_create_reference_tables.sql": "create table a (id int);",
        "supabase/migrations/20251205_wire_companies.sql": "create table b (id int);",
        "supabase/migrations/20251206_more.sql": "create table c (id int);",
    })
    code, junit = run(pg_server, root, "supabase", tmp_path / "report.xml")
    [(name, apply)] = failures_of(junit, "apply")
    assert code == 1 and name == "20251205_wire_companies"
    assert apply.endswith('duplicate key value violates unique constraint "schema_migrations_pkey": another migration'
                          " has its version (the history check names it)")
    assert [c.find("failure") for c in junit.iter("testcase")
            if c.attrib["classname"] == "migration_check.apply" and c.attrib["name"] == "20251206_more"] == [None]


def test_a_failure_after_a_skipped_go_migration_names_it(pg_server: Database, tmp_path: Path) -> None:
    root = write_files(tmp_path / "repo", {
        "migrations/00001_setup.go": "package migrations // runs through goose's Go API\n",
        "migrations/00002_index.sql": "-- +goose Up\ncreate index users_email on users (email);\n"
                                      "-- +goose Down\ndrop index users_email;\n",
    })
    code, junit = run(pg_server, root, "goose", tmp_path / "report.xml")
    [apply] = [c for c in junit.iter("testcase") if c.attrib["classname"] == "migration_check.apply"
               and c.find("failure") is not None]
    assert code == 1
    assert apply.find("failure").attrib["message"].endswith(
        "(not replayed before it: migrations/00001_setup.go, which may have created it)")


def test_what_a_skipped_go_migration_makes_is_not_judged_against_the_next(pg_server: Database, tmp_path: Path) -> None:
    # hatchet-dev/hatchet: v1_0_100.sql alters v1_dags_olap_new, which v1_0_99.go creates.
    root = write_files(tmp_path / "repo", {
        "migrations/00001_users.go": 'package migrations\n// tx.Exec("CREATE TABLE users (id int, email text)")\n',
        "migrations/00002_index.sql": "-- +goose Up\ncreate index users_email on users (email);\n"
                                      "-- +goose Down\ndrop index users_email;\n",
        "migrations/00003_more.sql": "-- +goose Up\nselect 1;\n-- +goose Down\nselect 1;\n",
    })
    code, junit = run(pg_server, root, "goose", tmp_path / "report.xml")
    cases = {(c.attrib["classname"], c.attrib["name"]): c for c in junit.iter("testcase")}
    assert code == 0 and not [c for c in cases.values() if c.find("failure") is not None]
    assert cases["migration_check.apply", "00002_index"].find("skipped").attrib["message"] == (
        'not judged: it needs users (relation "users" does not exist), which migrations/00001_users.go names, and'
        " that migration is not replayed (Go migration: goose runs it through its Go API, it is not SQL that can be"
        " replayed)")
    # The later migrations run without them, and are judged.
    assert cases["migration_check.apply", "00003_more"].find("skipped") is None


def test_a_yoyo_python_migration_fails_at_its_line_with_the_python_way_out(pg_server: Database, tmp_path: Path) -> None:
    # yoyo runs each Python migration in a transaction (each step in a savepoint) unless
    # `__transactional__ = False`; findings point into the .py file, at the SQL's own line.
    root = write_files(tmp_path / "repo", {
        "migrations/0001_a.py": (
            'from yoyo import step\n\nsteps = [\n    step("create table a (id int, b text)", "drop table a"),\n'
            '    step("""\ncreate index concurrently a_id on a (id);""", "drop index a_id"),\n]\n'),
        "migrations/0002_b.py": (
            'from yoyo import step\n\nsteps = [\n    step("create table b (id int)", "drop table b"),\n'
            '    step("alter table a drop column b", """\n  alter table a\n    add column b int"""),\n]\n'),
    })
    code, junit = run(pg_server, root, "yoyo", tmp_path / "report.xml")
    [(_, apply)] = failures_of(junit, "apply")
    assert code == 1 and apply.startswith("migrations/0001_a.py:6:1: ERROR 25001: CREATE INDEX CONCURRENTLY")
    assert "`__transactional__ = False`" in apply
    (root / "migrations/0001_a.py").write_text(
        (root / "migrations/0001_a.py").read_text().replace("steps = [", "__transactional__ = False\n\nsteps = ["))
    code, junit = run(pg_server, root, "yoyo", tmp_path / "report.xml")
    assert failures_of(junit, "apply") == []
    [(name, roundtrip)] = failures_of(junit, "roundtrip")
    assert code == 1 and name == "0002_b"
    assert "column public.a.b: type integer, was text — created again by the rollback (line 6)" in roundtrip


def test_a_yoyo_migration_without_rollback_is_judged_by_what_yoyo_runs_for_it(pg_server: Database, tmp_path: Path) -> None:
    # yoyo rolls back a migration without rollback by running nothing (kernelbot's steps have none):
    # no pairing failure; the round trip says what is left behind, and an up that leaves nothing passes.
    # (A project where no migration has a rollback is forward-only: 0003 has one.)
    root = write_files(tmp_path / "repo", {
        "migrations/0001_a.py": 'from yoyo import step\n\nsteps = [step("create table a (id int)")]\n',
        "migrations/0002_b.sql": "select count(*) from a;\n",
        "migrations/0003_c.sql": "create table c (id int);\n",
        "migrations/0003_c.rollback.sql": "drop table c;\n",
    })
    code, junit = run(pg_server, root, "yoyo", tmp_path / "report.xml")
    assert code == 1 and failures_of(junit, "pairing") == []
    [(name, roundtrip)] = failures_of(junit, "roundtrip")
    assert name == "0001_a" and roundtrip.startswith(
        "rollback is not the inverse of up (yoyo runs nothing for it: the migration has no rollback): table public.a:")


def test_a_yoyo_python_migration_that_runs_code_is_skipped_with_its_line(pg_server: Database, tmp_path: Path) -> None:
    root = write_files(tmp_path / "repo", {
        "migrations/0001_a.py": 'from yoyo import step\n\nsteps = [step("create table a (id int)", "drop table a")]\n',
        "migrations/0002_fill.py": ('from yoyo import step\n\n\ndef fill(conn):\n    conn.cursor().execute("insert into a values (1)")\n'
                                    '\n\nsteps = [step(fill, "delete from a")]\n'),
    })
    code, junit = run(pg_server, root, "yoyo", tmp_path / "report.xml")
    [skipped] = [c.find("skipped").attrib["message"] for c in junit.iter("testcase")
                 if c.attrib["classname"] == "migration_check.apply" and c.attrib["name"] == "0002_fill"]
    assert code == 0
    assert skipped == "Python migration: the step at line 8 runs the function fill, which the check cannot replay"


def test_a_role_the_server_should_have_gets_a_hint(pg_server: Database, tmp_path: Path) -> None:
    # Found on IATI/bulk-data-service (yoyo): `alter table ... owner to bds`, the application's role.
    root = write_files(tmp_path / "repo", {
        "migrations/0001_a.sql": "create table a (id int);\nalter table a owner to mc_no_such_app_role;\n",
        "migrations/0001_a.rollback.sql": "drop table a;\n",
    })
    code, junit = run(pg_server, root, "yoyo", tmp_path / "report.xml")
    [apply] = [c for c in junit.iter("testcase") if c.attrib["classname"] == "migration_check.apply"]
    message = apply.find("failure").attrib["message"]
    assert code == 1 and apply.attrib["line"] == "2"
    assert message.endswith("(a role the migrations expect the server to have: create it in a setup script,"
                            " `--setup FILE` or `setup:` in the config)")


def test_a_table_of_a_baseline_schema_gets_a_hint(pg_server: Database, tmp_path: Path) -> None:
    # Found on 0x0501/readest: the first migration alters a table of docker/volumes/db/init/schema.sql,
    # which the compose file loads before any migration.
    root = write_files(tmp_path / "repo", {
        "docker/db/init/schema.sql": "-- baseline\n\ncreate table public.book_configs (id int);\n",
        "docker/db/migrations/001_add_position.sql": "alter table public.book_configs add column p text;\n",
        "docker/db/migrations/002_more.sql": "select 1;\n",
    })
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    code, junit = run(pg_server, root, "numbered", tmp_path / "report.xml")
    [(_, apply)] = failures_of(junit, "apply")
    assert code == 1
    assert apply.endswith(
        '"public.book_configs" does not exist (no earlier migration creates book_configs; docker/db/init/schema.sql:3'
        " does: if the migrations start from that schema, run it first as a setup script,"
        " `--setup docker/db/init/schema.sql` or `setup:` in the config)")
    setup = ["--setup", str(root / "docker/db/init/schema.sql")]
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "-q", *setup]) == 0


@pytest.mark.parametrize(("files", "ending"), [
    # dsil-design/joot-app: a migration adds a value to an enum its database/schema.sql makes.
    ({"database/schema.sql": "create type currency_type as enum ('USD');\n",
      "migrations/001_more_currencies.sql": "alter type currency_type add value if not exists 'VND';\n"},
     'type "currency_type" does not exist (no earlier migration creates currency_type; database/schema.sql:1 does:'
     " if the migrations start from that schema, run it first as a setup script, `--setup database/schema.sql` or"
     " `setup:` in the config)"),
    # supabase/auth: its migrations write into schema auth, which hack/init_postgres.sql makes (the run
    # pointed at the supabase preset, whose auth tables are not this project's).
    ({"hack/init_postgres.sql": "create role auth_admin;\ncreate schema if not exists auth authorization auth_admin;\n",
      "migrations/001_users.sql": "create table if not exists auth.users (id uuid primary key);\n"},
     'schema "auth" does not exist (no earlier migration creates auth; hack/init_postgres.sql:2 does: if the'
     " migrations start from that schema, run it first as a setup script, `--setup hack/init_postgres.sql` or"
     " `setup:` in the config)"),
    # ory/keto: its migrations read the networks table of a library's migrations, one file per database.
    ({**{f"lib/sql/01_networks.{db}.up.sql": "create table networks (id uuid primary key);\n"
         for db in ("cockroach", "mysql", "postgres", "sqlite3")},
      "migrations/001_scoped.sql": "create table tuples (nid uuid references networks);\n"},
     'relation "networks" does not exist (no earlier migration creates networks; lib/sql/01_networks.postgres.up.sql:1'
     " does: if the migrations start from that schema, run it first as a setup script,"
     " `--setup lib/sql/01_networks.postgres.up.sql` or `setup:` in the config)"),
])
def test_a_type_or_schema_of_a_baseline_gets_a_hint(pg_server: Database, tmp_path: Path, files: dict[str, str],
                                                     ending: str) -> None:
    root = write_files(tmp_path / "repo", files)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    code, junit = run(pg_server, root, "numbered", tmp_path / "report.xml")
    [(_, apply)] = failures_of(junit, "apply")
    assert code == 1 and apply.endswith(ending)


@pytest.mark.parametrize(("up", "missing", "hinted"), [
    # tensorzero/tensorzero: its sqlx migrations call functions of a schema another migrator makes.
    ("select durable.create_queue('topk');\n", 'schema "durable" does not exist', "schema durable"),
    ("alter table events add column at timestamptz;\n", 'relation "events" does not exist', "table events"),
])
def test_what_no_migration_makes_gets_a_hint(pg_server: Database, tmp_path: Path, up: str, missing: str,
                                            hinted: str) -> None:
    root = write_files(tmp_path / "repo", {"migrations/20250101000000_queues.sql": up,
                                           "migrations/20250101000000_queues.down.sql": "select 1;\n"})
    code, junit = run(pg_server, root, "sqlx", tmp_path / "report.xml")
    [(_, apply)] = failures_of(junit, "apply")
    assert code == 1 and apply.endswith(
        f"{missing} (no migration here creates {hinted}: if something else makes it before these migrations run"
        " (another migrator, the application, the platform), make it in a setup script, `--setup FILE` or `setup:`"
        " in the config)")


def test_a_schema_a_script_of_the_repository_makes_is_named(pg_server: Database, tmp_path: Path) -> None:
    # measure-sh/measure: its dbmate migrations write into schema measure, which a self-host shell
    # script makes with psql (dbmate itself makes only the schema of its own table); a README that
    # speaks of it, and a SQL comment, are not that place.
    root = write_files(tmp_path / "repo", {
        "self-host/postgres/20240830075257_create_roles_table.sql":
            "-- migrate:up\ncreate table if not exists measure.roles (name text primary key);\n"
            "-- migrate:down\ndrop table if exists measure.roles;\n",
        "self-host/sync.sh": "#!/bin/sh\npsql <<'EOF'\n  begin;\n  create schema if not exists measure;\n  commit;\nEOF\n",
        "README.md": "We create schema measure_old by hand.\n",
        "notes.sql": "-- create schema measure;\nselect 1;\n",
    })
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    code, junit = run(pg_server, root / "self-host/postgres", "dbmate", tmp_path / "report.xml")
    [(_, apply)] = failures_of(junit, "apply")
    assert code == 1 and apply.endswith(
        'schema "measure" does not exist (no migration here creates schema measure; self-host/sync.sh:4 does, outside'
        " the migrations: give this database the same before them, in a setup script, `--setup FILE` or `setup:` in"
        " the config)")


def test_an_alembic_history_that_starts_from_the_models_schema_says_so(pg_server: Database, tmp_path: Path) -> None:
    # getredash/redash: `create_tables` runs db.create_all() then stamp(); the first revision alters
    # a table the models made. A test's create_all and a function named create_all are not that place.
    env = (FIXTURES / "layouts/alembic/broken/alembic/env.py").read_text()
    root = write_files(tmp_path / "repo", {
        "alembic.ini": "[alembic]\nscript_location = %(here)s/migrations\n",
        "migrations/env.py": env,
        "migrations/versions/65fc9ede4746_add_is_draft.py":
            'from alembic import op\nimport sqlalchemy as sa\n\nrevision = "65fc9ede4746"\ndown_revision = None\n\n\n'
            "def upgrade():\n    op.add_column('queries', sa.Column('is_draft', sa.Boolean, default=True))\n\n\n"
            "def downgrade():\n    op.drop_column('queries', 'is_draft')\n",
        "app/cli/database.py": "from flask_migrate import stamp\n\n\ndef create_all():\n    pass\n\n\n"
                               "def create_tables():\n    db.create_all()\n    stamp()\n",
        "tests/conftest.py": "def setup():\n    db.create_all()\n",
    })
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    code, junit = run(pg_server, root, "alembic", tmp_path / "report.xml")
    [(_, apply)] = failures_of(junit, "apply")
    assert code == 1 and apply.endswith(
        'relation "queries" does not exist (no migration here creates table queries: the application makes its schema'
        " from its models (app/cli/database.py:9, `create_all`) and stamps Alembic's revision (app/cli/database.py:10),"
        " so these migrations start from a schema no migration makes: give the check that schema as it was before the"
        " first migration (`pg_dump --schema-only` of such a database) as a setup script, `--setup FILE` or `setup:` in"
        " the config)")


def test_a_file_the_runner_refuses_fails_at_its_line_and_every_other_migration_gets_its_verdict(
        pg_server: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # goose applies the files before an unclosed StatementBegin and stops there; the run used to
    # stop at it, with no verdict for any migration. The one after it that needs its table is
    # "not judged", the other one is judged.
    root = write_files(tmp_path / "repo", {
        "migrations/00001_a.sql": "-- +goose Up\ncreate table a (id int);\n-- +goose Down\ndrop table a;\n",
        "migrations/00002_b.sql": "-- +goose Up\n-- +goose StatementBegin\ncreate table b (id int);\n",
        "migrations/00003_c.sql": "-- +goose Up\ncreate table c (id int);\n-- +goose Down\ndrop table c;\n",
        "migrations/00004_d.sql": "-- +goose Up\nalter table b add x int;\n-- +goose Down\nalter table b drop x;\n",
    })
    code, junit = run(pg_server, root, "goose", tmp_path / "report.xml")
    assert code == 1
    assert failures_of(junit, "history") == [("00002_b.sql", "-- +goose StatementBegin without StatementEnd")]
    applies = {c.attrib["name"]: c for c in junit.iter("testcase") if c.attrib["classname"] == "migration_check.apply"}
    assert [name for name, case in applies.items() if case.find("skipped") is None] == ["00001_a", "00003_c"]
    assert applies["00002_b"].find("skipped").attrib["message"] == (  # type: ignore[union-attr]
        "goose refuses the file (line 2): -- +goose StatementBegin without StatementEnd")
    assert "not judged" in applies["00004_d"].find("skipped").attrib["message"]  # type: ignore[union-attr]
    main(["check", str(root), "--format", "goose", "--database-url", pg_server.conninfo])
    assert "the replay ran 2 of 4 migrations (2 skipped; each skipped case says why)" in capsys.readouterr().out


def test_dbmate_files_with_several_sections_run_them_in_order(pg_server: Database, tmp_path: Path) -> None:
    # dbmate's parser takes several `-- migrate:up` sections, each with its own down and options.
    root = write_files(tmp_path / "repo", {
        "db/migrations/001_a.sql": (
            "-- migrate:up\ncreate table a (id int);\n-- migrate:down\ndrop index a_id;\n\n"
            "-- migrate:up transaction:false\ncreate index concurrently a_id on a (id);\n"
            "-- migrate:down\ndrop table a;\n"
        ),
        "db/migrations/002_b.sql": "-- migrate:up\nselect * from no_such_table;\n-- migrate:down\nselect 1;\n"
                                   "-- migrate:up\nselect 1;\n-- migrate:down\nselect 1;\n",
    })
    code, junit = run(pg_server, root, "dbmate", tmp_path / "report.xml")
    cases = {(c.attrib["classname"], c.attrib["name"]): c for c in junit.iter("testcase")}
    assert code == 1
    for family in ("apply", "rollback", "roundtrip", "reapply"):
        assert cases[(f"migration_check.{family}", "001_a")].find("failure") is None, family
    failed = cases[("migration_check.apply", "002_b")]
    assert failed.attrib["line"] == "2" and "no_such_table" in failed.find("failure").attrib["message"]
