"""Hasura discovery: the CLI's directories and files beside config.yaml, optional rollbacks, YAML
run_sql, empty files, and a real replay (Lucy-Family-Institute/pace-admin read as diesel failed 30
migrations for rollbacks Hasura never asks for)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import discover
from migration_check.errors import UsageError
from migration_check.servers.base import Database

CONFIG_V2 = "version: 2\nendpoint: http://localhost:8080\nmetadata_directory: metadata\n"
CONFIG_V3 = "version: 3\nendpoint: http://localhost:8080\nmetadata_directory: metadata\n"


def test_config_v3_a_folder_per_database_rollbacks_optional(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "hasura/config.yaml": CONFIG_V3,
        "hasura/metadata/version.yaml": "version: 3\n",
        "hasura/migrations/default/1700000000000_init/up.sql": "create table t (a int);\n",
        "hasura/migrations/default/1700000000000_init/down.sql": "drop table t;\n",
        # No down: the CLI accepts it (rollbacks are optional), as it does an empty file.
        "hasura/migrations/default/1700000000500_seed/up.sql": "insert into t values (1);\n",
        "hasura/migrations/default/1700000000500_seed/down.sql": "",
        # Versions are numbers: 999 runs before 1700000000000, whatever the text order says.
        "hasura/migrations/default/999_first/up.sql": "create schema app;\n",
        "hasura/migrations/default/notes.txt": "scratch\n",
        "hasura/migrations/default/1700000000900_x/README.md": "# what x does\n",
        # From config v2 on the CLI reads .sql only (pace-admin's `down.yaml` files of `[]`).
        "hasura/migrations/default/1700000000500_seed/down.yaml": "[]\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "hasura"
    assert found.directory == (tmp_path / "hasura/migrations/default").resolve()
    assert [(m.version, m.label) for m in found.migrations] == [
        ("999", "999_first"), ("1700000000000", "1700000000000_init"), ("1700000000500", "1700000000500_seed")]
    assert found.rollback_policy.value == "optional"
    assert found.migrations[2].down is None
    assert sorted((s.path.name, s.reason) for s in found.stray_files) == [
        ("1700000000900_x", "not a migration directory (<version>_<name>/up.sql and down.sql)"),
        ("down.yaml", "the Hasura CLI skips it (from config v2 on, the Hasura CLI reads only .sql migrations)"),
        ("notes.txt", "the Hasura CLI skips it (<version>_<name>/up.sql and down.sql)")]


def test_config_v1_files_and_yaml_run_sql(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "config.yaml": "endpoint: http://localhost:8080\n",
        "migrations/1550000000000_init.up.sql": "create table t (a int);\n",
        "migrations/1550000000000_init.up.yaml": "- type: track_table\n  args:\n    name: t\n",
        "migrations/1550000000000_init.down.yaml": (
            "- type: bulk\n  args:\n  - type: untrack_table\n    args: {table: t}\n"
            "  - type: run_sql\n    args:\n      sql: drop table t\n"),
        # Metadata only, both ways: nothing the database runs.
        "migrations/1550000000100_perms.up.yaml": "- type: create_select_permission\n  args: {table: t}\n",
        "migrations/1550000000100_perms.down.yaml": "[]\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "hasura"
    init, perms = found.migrations
    assert init.up is not None and init.up.sql == "create table t (a int);\n"
    assert init.down is not None and init.down.sql == "drop table t\n" and init.down.path.name.endswith(".down.yaml")
    assert perms.skip_reason == "its up holds nothing the database runs (metadata only)"


def test_a_yaml_migration_the_cli_refuses_is_a_refusal_and_the_up_is_still_judged(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "config.yaml": "endpoint: http://localhost:8080\n",  # config v1: YAML migrations are read
        "migrations/1550000000000_init/up.sql": "create table t (a int);\n",
        "migrations/1550000000000_init/down.yaml": "- type: run_sql\n  args: [unclosed\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    [refusal] = found.refusals
    assert refusal.path.name == "down.yaml" and "invalid YAML" in refusal.message
    [init] = found.migrations
    assert init.up is not None and init.down is None and not init.refused
    assert init.down_skip_reason is not None and init.down_skip_reason.startswith("the Hasura CLI refuses the file (line")


def test_without_hasuras_config_the_directories_are_diesels(tmp_path: Path) -> None:
    write_files(tmp_path, {"migrations/1700000000000_init/up.sql": "create table t (a int);\n",
                           "migrations/1700000000000_init/down.sql": "drop table t;\n"})
    assert discover(tmp_path, repo_root=tmp_path).format == "diesel"


def test_an_applications_own_config_yaml_is_no_hasura_project(tmp_path: Path) -> None:
    # golang-migrate's files read like Hasura's v1 files: an `endpoint` and a `version` in the
    # application's config.yaml must not turn them into a Hasura project.
    write_files(tmp_path, {"config.yaml": "version: 2\nendpoint: https://api.example.com\nlog_level: info\n",
                           "migrations/000001_init.up.sql": "create table t (a int);\n",
                           "migrations/000001_init.down.sql": "drop table t;\n"})
    assert discover(tmp_path, repo_root=tmp_path).format == "golang-migrate"


def test_known_by_the_metadata_the_cli_exports(tmp_path: Path) -> None:
    write_files(tmp_path, {"metadata/version.yaml": "version: 3\n", "metadata/databases/databases.yaml": "[]\n",
                           "migrations/default/1700000000000_init/up.sql": "create table t (a int);\n"})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "hasura" and found.reason.endswith("of the Hasura project of metadata/version.yaml")


def test_a_hasura_project_replays_without_asking_for_rollbacks(pg_server: Database, tmp_path: Path) -> None:
    root = write_files(tmp_path / "repo", {
        "hasura/config.yaml": CONFIG_V2,
        "hasura/migrations/1574432601495_create_tables/up.sql": "CREATE TABLE persons (id serial PRIMARY KEY, name text);\n",
        "hasura/migrations/1574435371480_add_email/up.sql": "ALTER TABLE persons ADD COLUMN email text;\n",
        "hasura/migrations/1574435371480_add_email/down.sql": "ALTER TABLE persons DROP COLUMN email;\n",
    })
    report = tmp_path / "report.xml"
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"]) == 0
    cases = list(ET.parse(report).getroot().iter("testcase"))
    assert [c.attrib["name"] for c in cases if c.find("failure") is not None] == []
    roundtrip = {c.attrib["name"]: c for c in cases if c.attrib["classname"] == "migration_check.roundtrip"}
    assert roundtrip["1574435371480_add_email"].find("skipped") is None
    assert roundtrip["1574432601495_create_tables"].find("skipped") is not None  # no down: nothing to judge


def test_the_consoles_placeholder_rollback_is_named_as_such(pg_server: Database, tmp_path: Path) -> None:
    # The Hasura console writes this down.sql where it cannot write the rollback (iGnosis/sh-graphql
    # keeps 70 of them): the CLI runs it, does nothing, and records the migration as rolled back.
    root = write_files(tmp_path / "repo", {
        "hasura/config.yaml": CONFIG_V2,
        "hasura/migrations/1574432601495_create_tables/up.sql": "CREATE TABLE persons (id serial PRIMARY KEY);\n",
        "hasura/migrations/1574432601495_create_tables/down.sql": "DROP TABLE persons;\n",
        "hasura/migrations/1654145194585_add_email/up.sql": "alter table persons add column email text null;\n",
        "hasura/migrations/1654145194585_add_email/down.sql": (
            "-- Could not auto-generate a down migration.\n-- Please write an appropriate down migration for the SQL"
            " below:\n-- alter table persons add column email text\n--  null;\n"),
    })
    report = tmp_path / "report.xml"
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"]) == 1
    [failure] = [c.find("failure") for c in ET.parse(report).getroot().iter("testcase")
                 if c.find("failure") is not None and c.attrib["classname"] == "migration_check.roundtrip"]
    assert failure is not None
    assert ("(hasura/migrations/1654145194585_add_email/down.sql holds only the Hasura console's \"Could not"
            " auto-generate a down migration\" comments: `hasura migrate apply --down` runs nothing and records the"
            " migration as rolled back;") in failure.attrib["message"]


def test_found_from_the_root_where_config_yaml_says(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "config.yaml": CONFIG_V3 + "migrations_directory: db/hasura\n",
        "db/hasura/default/1700000000000_init/up.sql": "create table t (a int);\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "hasura" and found.directory == (tmp_path / "db/hasura/default").resolve()
    assert "config.yaml `migrations_directory`" in found.reason


def test_the_sql_file_and_the_yaml_run_sql_run_as_two_scripts(tmp_path: Path) -> None:
    # A `;` put after a script whose last line is a `--` comment would be lost in the comment.
    write_files(tmp_path, {
        "config.yaml": "endpoint: http://localhost:8080\n",
        "migrations/1550000000000_init.up.sql": "create table t (a int)\n-- made by hand\n",
        "migrations/1550000000000_init.up.yaml": "- type: run_sql\n  args:\n    sql: create index t_a on t (a)\n",
    })
    [init] = discover(tmp_path, repo_root=tmp_path).migrations
    assert init.up is not None and init.up.sql == "create table t (a int)\n-- made by hand\n;\ncreate index t_a on t (a)\n;"


def test_a_hasura_project_in_hasura_beside_a_prisma_schema_is_a_choice_not_a_guess(tmp_path: Path) -> None:
    # MadNovOrg/test-blacksmith: 487 Hasura migrations in hasura/, and Prisma's one 0_init beside them:
    # the configured Prisma directory alone was checked, the Hasura project never found.
    write_files(tmp_path, {
        "hasura/config.yaml": CONFIG_V3,
        "hasura/migrations/default/1664972215178_init/up.sql": "create table orders (id int);\n",
        "hasura/migrations/default/1664972215178_init/down.sql": "drop table orders;\n",
        "prisma/schema.prisma": 'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n',
        "prisma/migrations/migration_lock.toml": 'provider = "postgresql"\n',
        "prisma/migrations/0_init/migration.sql": "create table orders (id int);\n",
    })
    with pytest.raises(UsageError, match=r"several migration directories: hasura/migrations/default \(hasura: 1 migration"
                                         r" of the Hasura project of (hasura/)?config.yaml; directory from hasura/config.yaml\);"
                                         r" prisma/migrations \(prisma"):
        discover(tmp_path, repo_root=tmp_path)
