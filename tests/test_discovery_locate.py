"""Finding the migrations from a repository root (issue 9.5): the runners' own config files name
the directory; otherwise the usual places, then a bounded search of the tree. Several candidates
are never a guess."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import discover
from migration_check.errors import FileError, UsageError
from migration_check.servers.base import Database

GOLANG = {"0001_a.up.sql": "select 1;", "0001_a.down.sql": "select 1;"}
DBMATE = {"001_a.sql": "-- migrate:up\nselect 1;\n-- migrate:down\nselect 1;\n"}
YOYO = {"0001_a.sql": "select 1;", "0001_a.rollback.sql": "select 1;"}


def under(directory: str, files: dict[str, str]) -> dict[str, str]:
    return {f"{directory}/{name}": text for name, text in files.items()}


@pytest.mark.parametrize(("files", "directory", "why"), [
    ({"yoyo.ini": "[DEFAULT]\nsources = schema/changes\n", **under("schema/changes", YOYO)},
     "schema/changes", "yoyo.ini `sources`"),
    ({"diesel.toml": '[migrations_directory]\ndir = "db/diesel"\n',
      "db/diesel/2024-01-01-000000_a/up.sql": "select 1;", "db/diesel/2024-01-01-000000_a/down.sql": "select 1;"},
     "db/diesel", "diesel.toml `migrations_directory`"),
    ({"flyway.conf": "flyway.url=jdbc:postgresql://x/y\nflyway.locations=filesystem:sql/versions\n",
      "sql/versions/V1__a.sql": "select 1;"},
     "sql/versions", "Flyway `locations`"),
    ({"flyway.toml": '[flyway]\nlocations = ["filesystem:database/flyway"]\n', "database/flyway/V1__a.sql": "select 1;"},
     "database/flyway", "Flyway `locations`"),
    ({"flyway.toml": '[environments.dev.flyway]\nlocations = ["filesystem:db/versions"]\n', "db/versions/V1__a.sql": "select 1;"},
     "db/versions", "Flyway `locations`"),
    ({"atlas.hcl": 'env "local" {\n  migration {\n    dir = "file://schema/migrate"\n  }\n}\n',
      **under("schema/migrate", GOLANG)},
     "schema/migrate", "atlas.hcl `migration.dir`"),
    ({"package.json": '{"prisma": {"schema": "db/schema.prisma"}}', "db/schema.prisma": "",
      "db/migrations/20240101000000_a/migration.sql": "select 1;"},
     "db/migrations", "db/schema.prisma (Prisma)"),
    ({".env": "DATABASE_URL=x\nDBMATE_MIGRATIONS_DIR=./database/changes\n", **under("database/changes", DBMATE)},
     "database/changes", ".env `DBMATE_MIGRATIONS_DIR`"),
    # sql-migrate: the postgres environment's dir, not the sqlite one's.
    ({"dbconfig.yml": ("test:\n  dialect: sqlite3\n  dir: sql/sqlite\ndevelopment:\n  dialect: postgres\n"
                       "  datasource: dbname=app\n  dir: sql/postgres\n"),
      "sql/sqlite/1-a.sql": "-- +migrate Up\nselect 1;\n", "sql/postgres/1-a.sql": "-- +migrate Up\nselect 1;\n"},
     "sql/postgres", "dbconfig.yml `dir` (dialect postgres)"),
])
def test_the_runners_config_names_the_directory(tmp_path: Path, files: dict[str, str], directory: str, why: str) -> None:
    found = discover(write_files(tmp_path, files), repo_root=tmp_path)
    assert found.directory == (tmp_path / directory).resolve()
    assert found.reason.endswith(f"directory from {why}")


def test_a_bounded_search_finds_migrations_anywhere_else(tmp_path: Path) -> None:
    files = {**under("services/billing/storage/sql", GOLANG), **under("node_modules/pkg/migrations", DBMATE)}
    found = discover(write_files(tmp_path, files), repo_root=tmp_path)
    assert found.directory == (tmp_path / "services/billing/storage/sql").resolve()
    assert found.format == "golang-migrate" and "found by searching the tree" in found.reason


def test_several_candidates_are_named_and_never_guessed(tmp_path: Path) -> None:
    write_files(tmp_path, {**under("services/a/migrations", GOLANG), **under("services/b/migrations", DBMATE)})
    with pytest.raises(UsageError) as raised:
        discover(tmp_path, repo_root=tmp_path)
    message = str(raised.value)
    assert "several migration directories" in message
    assert "services/a/migrations (golang-migrate" in message and "services/b/migrations (dbmate" in message


def test_the_one_named_for_postgresql_is_chosen_among_others_named_for_other_databases(tmp_path: Path) -> None:
    # As atuinsh/atuin and dani-garcia/vaultwarden keep them: one directory of migrations per database.
    write_files(tmp_path, {**under("crates/server-postgres/migrations", GOLANG),
                           **under("crates/server-sqlite/migrations", GOLANG)})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / "crates/server-postgres/migrations").resolve()
    assert found.reason.endswith("; the one named for PostgreSQL beside crates/server-sqlite/migrations")


def test_a_database_named_inside_a_longer_word_is_that_database(tmp_path: Path) -> None:
    # riverqueue/river: one directory per driver, riverpgxv5 beside riversqlite.
    write_files(tmp_path, {**under("riverdriver/riverpgxv5/migration/main", GOLANG),
                           **under("riverdriver/riversqlite/migration/main", GOLANG)})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / "riverdriver/riverpgxv5/migration/main").resolve()
    assert found.reason.endswith("; the only one beside riverdriver/riversqlite/migration/main (SQLite), for"
                                 " another database")


def test_a_maven_module_two_levels_down_keeps_one_flyway_directory_per_database(tmp_path: Path) -> None:
    # eclipse-hawkbit/hawkbit: depth 8, and H2 is a database too.
    module = "hawkbit-repository/hawkbit-repository-jpa-flyway/src/main/resources/db/migration"
    write_files(tmp_path, {f"{module}/{db}/V1__init.sql": "create table t (a int);" for db in ("H2", "MYSQL", "POSTGRESQL")})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / module / "POSTGRESQL").resolve()
    assert found.reason.endswith(f"; the one named for PostgreSQL beside {module}/H2, {module}/MYSQL")


def test_cockroachdb_migrations_are_another_databases(tmp_path: Path) -> None:
    # boxyhq/jackson keeps npm/migration/cockroachdb beside npm/migration/postgres: CockroachDB speaks
    # PostgreSQL's protocol, but its migrations are its own; it was a choice left to the user.
    write_files(tmp_path, {**under("npm/migration/postgres", GOLANG), **under("npm/migration/cockroachdb", GOLANG)})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / "npm/migration/postgres").resolve()
    assert found.reason.endswith("the one named for PostgreSQL beside npm/migration/cockroachdb")


def test_several_candidates_name_the_one_named_for_postgresql_when_another_is_not_named_for_a_database(
        tmp_path: Path) -> None:
    write_files(tmp_path, {**under("crates/server-postgres/migrations", GOLANG),
                           **under("crates/server-sqlite/migrations", GOLANG), **under("tools/migrations", GOLANG)})
    with pytest.raises(UsageError) as raised:
        discover(tmp_path, repo_root=tmp_path)
    assert str(raised.value).endswith("; crates/server-postgres/migrations is the one named for PostgreSQL (set aside:"
                                      " crates/server-sqlite/migrations (SQLite), for another database)")
    assert "crates/server-sqlite/migrations (golang-migrate" not in str(raised.value)


def test_the_only_one_not_named_for_another_database_nor_of_the_tests_is_chosen(tmp_path: Path) -> None:
    # langfuse/langfuse: Prisma's migrations beside ClickHouse's; openmeter keeps test fixtures in testdata/.
    write_files(tmp_path, {**under("packages/shared/migrations", GOLANG),
                           **under("packages/shared/clickhouse/migrations", GOLANG),
                           **under("tools/testdata/ignore", GOLANG)})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / "packages/shared/migrations").resolve()
    assert found.reason.endswith("; the only one beside packages/shared/clickhouse/migrations (ClickHouse), for"
                                 " another database; tools/testdata/ignore, of the tests")


def test_a_libraries_stub_migrations_are_set_aside_as_the_tests(tmp_path: Path) -> None:
    # ory/keto: its own migrations beside the test stand-ins of a vendored library (oryx/popx/stub/migrations/*).
    write_files(tmp_path, {**under("internal/persistence/sql/migrations/sql", GOLANG),
                           **under("oryx/popx/stub/migrations/transactional", GOLANG)})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / "internal/persistence/sql/migrations/sql").resolve()
    assert found.reason.endswith("; the only one beside oryx/popx/stub/migrations/transactional, of the tests")


def test_the_examples_are_set_aside_too(tmp_path: Path) -> None:
    # dittofeed/dittofeed: its drizzle migrations beside examples/supabase/supabase/migrations.
    write_files(tmp_path, {**under("packages/backend-lib/migrations", GOLANG),
                           **under("examples/supabase/migrations", GOLANG), **under("tools/testdata/ignore", GOLANG)})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / "packages/backend-lib/migrations").resolve()
    assert found.reason.endswith("; the only one beside examples/supabase/migrations, of the examples;"
                                 " tools/testdata/ignore, of the tests")


def test_an_example_plugin_and_the_images_init_scripts_are_set_aside(tmp_path: Path) -> None:
    # ckan/ckan: its Alembic revisions beside an example extension's and a dev container's init scripts.
    write_files(tmp_path, {**under("ckan/migration/versions", GOLANG),
                           **under("ckanext/example_database_migrations/versions", GOLANG),
                           **under(".devcontainer/postgres-docker-entrypoint-initdb.d", GOLANG)})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / "ckan/migration/versions").resolve()
    assert "ckanext/example_database_migrations/versions, of the examples" in found.reason
    assert ".devcontainer/postgres-docker-entrypoint-initdb.d, the database image's init scripts" in found.reason


def test_the_only_migrations_found_in_the_tests_are_checked_saying_so(tmp_path: Path) -> None:
    # openmrs/openmrs-core: its changelogs run from Java code, and the one recognised is a test resource.
    write_files(tmp_path, {**under("web/src/test/resources/liquibase", GOLANG), "api/src/Main.java": "class Main {}\n"})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / "web/src/test/resources/liquibase").resolve()
    assert found.reason.endswith("; the only migrations found, of the tests: where the project's own are elsewhere,"
                                 " give their directory as the path")


def test_a_copy_kept_aside_by_its_name_is_set_aside_too(tmp_path: Path) -> None:
    # Acaisoft/bolt-api: hasura/migrations_backup beside the migrations that run.
    write_files(tmp_path, {**under("store/schema", GOLANG), **under("store/schema_backup", GOLANG)})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / "store/schema").resolve()
    assert found.reason.endswith("; the only one beside store/schema_backup, a copy kept aside, by its name")


def test_among_examples_alone_those_of_another_database_are_still_set_aside(tmp_path: Path) -> None:
    # sqlc-dev/sqlc: examples/ondeck/{postgresql,mysql,sqlite}/schema and nothing else; two examples
    # for PostgreSQL would be a choice the user makes.
    write_files(tmp_path, {**under("examples/ondeck/postgresql/schema", GOLANG),
                           **under("examples/ondeck/mysql/schema", GOLANG), **under("examples/ondeck/sqlite/schema", GOLANG)})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / "examples/ondeck/postgresql/schema").resolve()
    assert found.reason.endswith("; the one named for PostgreSQL beside examples/ondeck/mysql/schema,"
                                 " examples/ondeck/sqlite/schema")
    write_files(tmp_path, under("examples/booktest/postgresql/schema", GOLANG))
    with pytest.raises(UsageError) as raised:
        discover(tmp_path, repo_root=tmp_path)
    assert "examples/ondeck/mysql/schema (golang-migrate" not in str(raised.value)


def test_a_java_packages_scripts_are_found_and_its_code_is_theirs(tmp_path: Path) -> None:
    # openremote/openremote: Flyway's scripts in a Java package's resources, nine levels down ("no
    # migrations found" at eight), its Java migrations in the same package under src/main/java (one
    # location to Flyway), and one example Java migration in another module, nothing to replay.
    package = "manager/src/main/{}/org/openremote/manager/setup/database"
    write_files(tmp_path, {
        f"{package.format('resources')}/V20191202_01__Schema.sql": "create table asset (id text primary key);\n",
        f"{package.format('resources')}/V20191203_01__Names.sql": "alter table asset add column name text;\n",
        f"{package.format('java')}/V20220101_01__Backfill.java": "class V20220101_01__Backfill {}\n",
        "container/src/main/java/org/openremote/container/persistence/migrations/V0_1_2__ExampleMigration.java":
            "class V0_1_2__ExampleMigration {}\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / package.format("resources")).resolve()
    assert [m.id for m in found.migrations] == ["20191202.01_Schema", "20191203.01_Names", "20220101.01_Backfill"]
    assert found.reason.endswith("; the only one beside container/src/main/java/org/openremote/container/persistence/"
                                 "migrations, holding code migrations alone, which no replay runs")


def test_test_fixtures_alone_are_still_found(tmp_path: Path) -> None:
    write_files(tmp_path, {**under("tests/fixtures/migrations", GOLANG)})
    assert discover(tmp_path, repo_root=tmp_path).directory == (tmp_path / "tests/fixtures/migrations").resolve()


def test_the_path_chooses_among_several(tmp_path: Path) -> None:
    write_files(tmp_path, {**under("services/a/migrations", GOLANG), **under("services/b/migrations", DBMATE)})
    assert discover(tmp_path / "services/b", repo_root=tmp_path).format == "dbmate"


def test_from_a_root_outside_git_the_header_and_the_report_name_the_real_directory(
        pg_server: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_files(tmp_path / "repo", {"yoyo.ini": "[DEFAULT]\nsources = schema/changes\n", **under("schema/changes", YOYO)})
    monkeypatch.chdir(root)
    report = tmp_path / "report.xml"
    assert main(["check", ".", "--database-url", pg_server.conninfo, "--junit-xml", str(report)]) == 0
    out = capsys.readouterr().out
    assert "migrations: schema/changes (1 found)" in out
    assert "directory from yoyo.ini `sources`" in out
    files = {c.attrib.get("file") for c in ET.parse(report).getroot().iter("testcase")} - {None}
    assert files and all(f.startswith("schema/changes/") for f in files)


def test_an_empty_plan_at_the_root_gives_way_to_the_migrations_below(tmp_path: Path) -> None:
    # As FreeGeekArkansas/timeclock keeps it: a stub sqitch.plan at the root, the project in sqitch/.
    stub = {"sqitch.plan": "%syntax-version=1.0.0\n%project=volunteer\n\n"}
    write_files(tmp_path, {**stub, "sqitch/sqitch.plan": "%project=x\n\na 2024-01-01T00:00:00Z A <a@b.c> # a\n",
                           "sqitch/deploy/a.sql": "select 1;", "sqitch/revert/a.sql": "select 1;"})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == (tmp_path / "sqitch").resolve() and [m.id for m in found.migrations] == ["a"]
    # Alone, the empty plan is the project: a new one, with nothing to run yet.
    alone = write_files(tmp_path / "new", stub)
    found = discover(alone, repo_root=alone)
    assert found.format == "sqitch" and found.directory == alone.resolve() and found.migrations == []


@pytest.mark.parametrize(("conf", "plan_dir"), [
    ('[core]\n\tengine = pg\n\ttop_dir = database/sqitch\n', "database/sqitch"),
    # As Tamarou/Registry has it: an indented top_dir under a commented-out line, and a stale
    # sqitch.plan at the root that sqitch never reads.
    ("[core]\n\tengine = pg\n\t# plan_file = sqitch.plan\n\t top_dir = ./sql\n", "sql"),
    # As Dragomeat/musicd has it: the plan beside sqitch.conf, the scripts under top_dir.
    ("[core]\nengine=pg\nplan_file=sqitch.plan\ntop_dir=database/sqitch\n", "."),
])
def test_sqitch_runs_where_its_conf_is_and_reads_the_plan_it_names(tmp_path: Path, conf: str, plan_dir: str) -> None:
    write_files(tmp_path, {
        "sqitch.conf": conf, "sqitch.plan": "%project=x\n\nold 2024-01-01T00:00:00Z A <a@b.c> # gone\n",
        f"{plan_dir}/sqitch.plan": "%project=x\n\na 2024-01-01T00:00:00Z A <a@b.c> # a\n",
        "database/sqitch/deploy/a.sql": "select 1;", "sql/deploy/a.sql": "select 1;",
        "database/sqitch/revert/a.sql": "select 1;", "sql/revert/a.sql": "select 1;",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.directory == tmp_path.resolve() and [m.id for m in found.migrations] == ["a"]
    top = "sql" if plan_dir == "sql" else "database/sqitch"
    assert found.migrations[0].up.path == tmp_path / top / "deploy" / "a.sql"


@pytest.mark.parametrize(("conf", "line", "words"), [
    ("[core]\n\tengine = pg\n\tplan_file = sqitch.palan\n", 3, "the plan file sqitch.palan does not exist"),
    ("[core]\n\tengine = mysql\n", 2, "engine = mysql: these are changes for another database"),
])
def test_sqitch_conf_that_sqitch_would_stop_at_is_an_error_at_its_line(tmp_path: Path, conf: str, line: int,
                                                                     words: str) -> None:
    # As IRunGames/irunschema (a misspelt plan) and JasonLamey/IMGames (a MySQL project) have it.
    write_files(tmp_path, {"sqitch.conf": conf, "sqitch.plan": "%project=x\n\na 2024-01-01T00:00:00Z A <a@b.c> # a\n",
                           "deploy/a.sql": "select 1;"})
    with pytest.raises(FileError) as raised:
        discover(tmp_path, repo_root=tmp_path)
    assert raised.value.path == tmp_path / "sqitch.conf" and raised.value.line == line
    assert words in str(raised.value)
