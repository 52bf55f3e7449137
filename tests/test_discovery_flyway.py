"""Flyway discovery: numeric versions, undo pairing, repeatables, Java migrations, policy."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import discover
from migration_check.history import static_checks
from migration_check.model import RollbackPolicy, Status, Transaction
from migration_check.servers.base import Database
from migration_check.settings import Settings

DIR = "src/main/resources/db/migration/"


def project(tmp_path: Path, files: dict[str, str]):
    return discover(write_files(tmp_path, {DIR + k: v for k, v in files.items()}), repo_root=tmp_path)


def test_versions_sort_numerically_and_repeatables_come_last(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "V1.10__later.sql": "select 110;",
        "V1_2__dotted_with_underscore.sql": "select 12;",
        "V2__two.sql": "select 2;",
        "V1__init.sql": "select 1;",
        "R__views.sql": "create or replace view v as select 1;",
        "R__a_functions.sql": "select 'r';",
        "V3__backfill.java": "class V3__backfill {}",
        "afterMigrate.sql": "select 'callback';",
        "README.md": "docs",
    })
    assert found.format == "flyway"
    # A class is counted as what it is (openremote's Java-only directory read "1 file named ....sql").
    assert found.reason == "4 files named V<version>__<description>.sql, 1 Java/Kotlin migration, 2 R__ repeatable"
    assert [m.version for m in found.migrations] == ["1", "1.2", "1.10", "2", "3", "R__a_functions", "R__views"]
    java = found.migrations[4]
    assert java.up is None and "Java" in java.skip_reason
    assert [m.repeatable for m in found.migrations][-2:] == [True, True]
    assert found.rollback_policy is RollbackPolicy.ABSENT  # no undo script: forward-only
    assert [(s.path.name, s.reason) for s in found.stray_files] == [("afterMigrate.sql", "Flyway callback: not replayed")]


def test_undo_scripts_are_rollbacks_and_make_them_required(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "V1__init.sql": "create table t (a int);",
        "U1__init.sql": "drop table t;",
        "V2__more.sql": "create table u (a int);",
        "U9__nothing.sql": "select 1;",
    })
    assert found.rollback_policy is RollbackPolicy.REQUIRED
    init, more = found.migrations
    assert init.down.path.name == "U1__init.sql" and init.files[-1].name == "U1__init.sql"
    assert more.down is None
    assert [o.path.name for o in found.orphan_rollbacks] == ["U9__nothing.sql"]


def test_duplicate_versions_are_both_kept(tmp_path: Path) -> None:
    found = project(tmp_path, {"V1__a.sql": "select 1;", "V01__b.sql": "select 2;", "U1__b.sql": "select 3;"})
    assert [(m.version, m.name) for m in found.migrations] == [("01", "b"), ("1", "a")]
    assert found.migrations[0].down is not None  # the undo pairs with the same description


def test_execute_in_transaction_false_from_the_script_config(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "V1__index.sql": "create index concurrently i on t (a);",
        "V1__index.sql.conf": "executeInTransaction=false\n",
        "V2__plain.sql": "select 1;",
    })
    assert [m.up.transaction for m in found.migrations] == [Transaction.NONE, Transaction.UNMIXED]
    assert not found.stray_files


def test_java_migrations_of_the_same_classpath_package_take_their_place(tmp_path: Path) -> None:
    # Spring Boot's default location, classpath:db/migration, holds the SQL resources and the
    # classes compiled from src/main/java/db/migration (and Kotlin's, Scala's) alike.
    found = discover(write_files(tmp_path, {
        DIR + "V1__init.sql": "create table t (a int);",
        DIR + "V3__more.sql": "create table u (a int);",
        "src/main/java/db/migration/V2__backfill.java": "class V2__backfill {}",
        "src/main/java/db/migration/MigrationHelper.java": "class MigrationHelper {}",
        "src/main/kotlin/db/migration/V2_5__Rename.kt": "class V2_5__Rename",
        "src/main/java/other/V9__elsewhere.java": "class V9__elsewhere {}",
    }), repo_root=tmp_path)
    assert [m.version for m in found.migrations] == ["1", "2", "2.5", "3"]
    assert [m.main_file.name for m in found.migrations if m.skip_reason] == ["V2__backfill.java", "V2_5__Rename.kt"]
    assert not found.stray_files


def test_a_new_database_starts_from_the_latest_baseline_migration(tmp_path: Path) -> None:
    # eclipse-hawkbit/hawkbit: B1_20_0 holds the schema of V1..V1_20_0; V1_20_1 on build on it.
    found = project(tmp_path, {
        "V1__init.sql": "create table t (a int);",
        "V1_20_0__same_version.sql": "select 1;",
        "B1_1__older_baseline.sql": "create table t (a int);",
        "B1_20_0__baseline.sql": "create table t (a int, b int);",
        "V1_20_1__more.sql": "alter table t add column c int;",
        "U1_20_1__more.sql": "alter table t drop column c;",
        "R__views.sql": "create or replace view v as select a from t;",
    })
    assert found.reason == "3 files named V<version>__<description>.sql, 1 U__ undo, 1 R__ repeatable, 2 B__ baseline"
    assert [(m.id, bool(m.skip_reason), m.covered) for m in found.migrations] == [
        ("1_init", True, True), ("B1.1_older_baseline", True, True), ("1.20.0_same_version", True, True),
        ("B1.20.0_baseline", False, False), ("1.20.1_more", False, False), ("R__views", False, False)]
    assert "covered by the baseline migration B1_20_0__baseline.sql" in found.migrations[0].skip_reason
    baseline = found.migrations[3]
    assert baseline.baseline and baseline.down is None
    # A baseline has no rollback, even where undo scripts make rollbacks required.
    pairing = {r.subject: r.status for r in static_checks(found, Settings()) if r.check == "pairing"}
    assert pairing["B1.20.0_baseline"] is Status.PASSED and pairing["1.20.1_more"] is Status.PASSED


@pytest.mark.parametrize(("config", "text"), [
    ("flyway.conf", "flyway.group=true\n"),
    ("flyway.toml", "[flyway]\ngroup = true\n"),
    ("src/main/resources/application.properties", "spring.flyway.group=true\n"),
    ("src/main/resources/application.yml", "spring:\n  flyway:\n    group: true\n"),
])
def test_group_runs_every_pending_migration_in_one_transaction(tmp_path: Path, config: str, text: str) -> None:
    found = discover(write_files(tmp_path, {DIR + "V1__a.sql": "select 1;", config: text}), repo_root=tmp_path)
    assert found.pending_in_one_transaction
    plain = discover(write_files(tmp_path / "plain", {DIR + "V1__a.sql": "select 1;"}), repo_root=tmp_path / "plain")
    assert not plain.pending_in_one_transaction


def test_with_group_the_migrations_are_tried_at_once_too(pg_server: Database, tmp_path: Path) -> None:
    root = write_files(tmp_path / "repo", {"flyway.conf": "flyway.group=true\n",
                                           DIR + "V1__a.sql": "create table a (id int);",
                                           DIR + "V2__b.sql": "create table b (id int);"})
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    [case] = [c for c in ET.parse(report).getroot().iter("testcase") if c.attrib["name"] == "every migration in one transaction"]
    assert code == 0 and case.findtext("system-out") == (
        "flyway runs every pending migration in one transaction, and so on a new database: all 2 apply")


def test_placeholders_are_replaced_as_flyway_replaces_them(tmp_path: Path) -> None:
    # Flyway's own placeholders, and the project's from flyway.conf (names without case).
    found = discover(write_files(tmp_path, {
        "flyway.conf": "flyway.schemas=app,audit\nflyway.placeholders.Owner=app_owner\nflyway.table=history\n",
        "sql/V1__init.sql": "create schema if not exists ${flyway:defaultSchema};\n"
                            "create table ${flyway:defaultSchema}.t (id int); -- ${flyway:filename}\n"
                            "alter table app.t owner to ${owner}; comment on table app.t is '${flyway:table}';\n",
    }), repo_root=tmp_path)
    [init] = found.migrations
    assert init.skip_reason is None and init.up is not None
    assert init.up.sql == ("create schema if not exists app;\ncreate table app.t (id int); -- V1__init.sql\n"
                           "alter table app.t owner to app_owner; comment on table app.t is 'history';\n")
    # What Flyway itself does before the first migration is said in the run's header.
    assert found.setup_reason == "as Flyway does with the schemas it manages, creates app, audit and puts app first on the search_path"


@pytest.mark.parametrize(("config", "text"), [
    ("src/main/resources/application.yml",
     "spring:\n  flyway:\n    default-schema: billing\n    placeholders:\n      tenant: ${TENANT:acme}\n"),
    ("src/main/resources/application.properties",
     "spring.flyway.default-schema=billing\nspring.flyway.placeholders.tenant=acme\n"),
    ("flyway.toml", '[flyway]\ndefaultSchema = "billing"\n\n[flyway.placeholders]\ntenant = "acme"\n'),
    # phillwatson/one-stop (Quarkus): the schema refers to another entry of the file; a profile's is left out.
    ("src/main/resources/application.yaml",
     '"%prod":\n  quarkus:\n    flyway:\n      schemas: other\nquarkus:\n  hibernate-orm:\n    database:\n'
     "      default-schema: billing\n  flyway:\n    schemas: ${quarkus.hibernate-orm.database.default-schema}\n"
     "    placeholders:\n      tenant: acme\n"),
    ("src/main/resources/application.properties",
     "%prod.quarkus.flyway.schemas=other\nquarkus.flyway.schemas=billing\nquarkus.flyway.placeholders.tenant=acme\n"),
])
def test_placeholders_from_spring_boot_and_flyway_toml(tmp_path: Path, config: str, text: str) -> None:
    # Spring resolves `${TENANT:acme}` itself: its default is what Flyway gets where nothing sets TENANT.
    write_files(tmp_path, {config: text})
    found = project(tmp_path, {"V1__init.sql": "create table ${flyway:defaultSchema}.${tenant}_orders (id int);\n"})
    assert found.migrations[0].up.sql == "create table billing.acme_orders (id int);\n"


POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <properties>
    <datasource.ohdsi.schema>dbo</datasource.ohdsi.schema>
    <flyway.placeholders.ohdsiSchema>${datasource.ohdsi.schema}</flyway.placeholders.ohdsiSchema>
  </properties>
  <build><resources><resource><directory>src/main/resources</directory><filtering>%s</filtering></resource></resources></build>
  <profiles>
    <profile><id>webapi-oracle</id><properties><datasource.ohdsi.schema>OHDSI</datasource.ohdsi.schema></properties></profile>
    <profile><id>webapi-postgresql</id><properties><datasource.ohdsi.schema>ohdsi</datasource.ohdsi.schema></properties></profile>
  </profiles>
</project>
"""


@pytest.mark.parametrize(("filtering", "schema"), [("true", "ohdsi"), ("false", None)])
def test_a_placeholder_maven_puts_into_the_application_file(tmp_path: Path, filtering: str, schema: str | None) -> None:
    # OHDSI/WebAPI: application.properties says `${flyway.placeholders.ohdsiSchema}`, and Maven, which
    # filters the resources, puts in the pom's value: its PostgreSQL profile's over the default.
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        "pom.xml": POM % filtering,
        "src/main/resources/application.properties":
            "flyway.placeholders.ohdsiSchema=${flyway.placeholders.ohdsiSchema}\nflyway.schemas=${datasource.ohdsi.schema}\n",
    })
    found = project(tmp_path, {"V1__init.sql": "create table ${ohdsiSchema}.source (id int);\n"})
    [init] = found.migrations
    if schema is None:  # not filtered: the reference stays, and Flyway has no value for it
        assert init.skip_reason is not None and "${ohdsiSchema}" in init.skip_reason
    else:
        assert init.up is not None and init.up.sql == "create table ohdsi.source (id int);\n"
        assert found.setup_reason.startswith("as Flyway does with the schemas it manages, creates ohdsi")


def test_a_placeholder_without_a_value_is_not_replayed_and_says_where_to_give_it(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "V1__init.sql": "create table t (id int);\n",
        "V2__grant.sql": "-- grants\ngrant select on t to ${reader_role};\n",
        "U2__grant.sql": "revoke select on t from ${reader_role};\n",
    })
    grant = found.migrations[1]
    assert grant.skip_reason is not None and grant.skip_reason.startswith(
        "line 2 uses the Flyway placeholder ${reader_role}, which has no value in the project's Flyway settings:"
        " Flyway refuses the script so")
    assert "`flyway.placeholders.reader_role` in flyway.conf" in grant.skip_reason
    assert grant.skip_reason.endswith("(or, where the project's code sets it, with --var reader_role=VALUE)")
    assert grant.down_skip_reason is not None and grant.down_skip_reason.startswith("line 1 uses")
    # openremote sets its `schemaName` in code: given with `--var` (names without case, as Flyway's).
    grant = discover(tmp_path / DIR, repo_root=tmp_path, values={"Reader_Role": "reader"}).migrations[1]
    assert grant.skip_reason is None and grant.up is not None and grant.up.sql == "-- grants\ngrant select on t to reader;\n"
    assert grant.down is not None and grant.down.sql == "revoke select on t from reader;\n"


def test_spring_boots_default_file_comes_before_a_profiles(tmp_path: Path) -> None:
    write_files(tmp_path, {"src/main/resources/application-test.properties": "spring.flyway.default-schema=other\n",
                           "src/main/resources/application.properties": "spring.flyway.default-schema=billing\n"})
    found = project(tmp_path, {"V1__init.sql": "create table ${flyway:defaultSchema}.orders (id int);\n"})
    assert found.migrations[0].up.sql == "create table billing.orders (id int);\n"


def test_placeholder_replacement_turned_off_leaves_the_text_as_it_is(tmp_path: Path) -> None:
    found = discover(write_files(tmp_path, {
        "flyway.conf": "flyway.placeholderReplacement=false\n",
        "sql/V1__js.sql": "select '${not_a_placeholder}';\n",
    }), repo_root=tmp_path)
    assert found.migrations[0].up.sql == "select '${not_a_placeholder}';\n" and found.migrations[0].skip_reason is None


def test_the_schemas_flyway_manages_are_made_and_its_default_is_first_on_the_search_path(pg_server: Database,
                                                                                          tmp_path: Path) -> None:
    # Flyway creates `schemas` (createSchemas) and puts the default one first on the search_path:
    # an unqualified table lands there, where `${flyway:defaultSchema}.t` finds it.
    root = write_files(tmp_path / "repo", {
        "flyway.conf": "flyway.schemas=app,audit\nflyway.placeholders.suffix=v2\n",
        "sql/V1__init.sql": "create table t_${suffix} (id int);\ncreate table audit.log (id int);\n",
        "sql/U1__init.sql": "drop table audit.log;\ndrop table t_${suffix};\n",
        "sql/V2__row.sql": "insert into ${flyway:defaultSchema}.t_${suffix} values (-1);\n",
        "sql/U2__row.sql": "delete from app.t_v2 where id = -1;\n",
    })
    found = discover(root, repo_root=root)
    [setup] = found.setup
    assert setup.sql.startswith('CREATE SCHEMA IF NOT EXISTS "app";\nCREATE SCHEMA IF NOT EXISTS "audit";\n')
    report = tmp_path / "report.xml"
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"]) == 0
    passed = {(c.attrib["classname"], c.attrib["name"]) for c in ET.parse(report).getroot().iter("testcase")
              if c.find("skipped") is None and c.find("failure") is None}
    assert {("migration_check.roundtrip", m) for m in ("1", "2")} <= {(k, n.split("_")[0]) for k, n in passed}


def test_drift_judges_the_schema_flyway_manages_and_leaves_its_history_table_out(pg_server: Database,
                                                                                   tmp_path: Path) -> None:
    # A production dump has Flyway's history table in the schema Flyway manages; what the migrations
    # put in that schema is theirs to answer for (not the setup's, as a platform's schema would be).
    root = write_files(tmp_path / "repo", {
        "flyway.conf": "flyway.schemas=app\n",
        "sql/V1__init.sql": "create table t (id int);\n",
        "schema.sql": ("CREATE SCHEMA IF NOT EXISTS app;\nCREATE TABLE app.t (id int);\n"
                       "CREATE TABLE app.flyway_schema_history (installed_rank int);\nCREATE TABLE app.extra (id int);\n"),
    })
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q",
                 "--drift-schema", str(root / "schema.sql")])
    drift = [(c.attrib["name"], c.find("failure")) for c in ET.parse(report).getroot().iter("testcase")
             if c.attrib["classname"] == "migration_check.drift"]
    failed = [f.attrib["message"] for _, f in drift if f is not None]
    assert code == 1 and len(failed) == 1 and failed[0].startswith("table app.extra: ")


def test_a_location_is_scanned_recursively_as_flyway_scans_it(tmp_path: Path) -> None:
    # dhis2/dhis2-core keeps a folder per release under its location (2.31/, 2.32/, ...): Flyway
    # reads them all as one location; each folder read alone was "several migration directories".
    # Eleven levels down, as deep as dhis2's: the tree search reaches it.
    location = "dhis-2/dhis-support/dhis-support-db-migration/src/main/resources/org/hisp/dhis/db/migration"
    write_files(tmp_path, {
        f"{location}/2.31/V2_31_1__Migrations_for_release_v31.sql": "create table a (id int);",
        f"{location}/2.31/README.md": "notes",
        f"{location}/2.32/V2_32_1__Add_b.sql": "create table b (id int);",
        f"{location}/2.32/more/V2_32_10__Add_c.sql": "create table c (id int);",
        f"{location}/2.32/V2_32_2__Add_d.sql": "create table d (id int);",
    })
    for given in (tmp_path, tmp_path / location):
        found = discover(given, repo_root=tmp_path)
        assert found.format == "flyway" and found.directory == (tmp_path / location).resolve()
        assert [m.version for m in found.migrations] == ["2.31.1", "2.32.1", "2.32.2", "2.32.10"]
    # A script in a sub-folder is named as Flyway names it: by its file name alone.
    naming = [r for r in static_checks(found, Settings()) if r.check == "naming"]
    assert len(naming) == 4 and all(r.status is Status.PASSED for r in naming)


def test_scripts_beside_sub_folders_are_one_location_but_a_vendor_folder_is_not(tmp_path: Path) -> None:
    found = project(tmp_path, {
        "V1__init.sql": "create table a (id int);",
        "archive/V2__later.sql": "create table b (id int);",
        "h2/V3__for_h2.sql": "create table c (id int);",  # Flyway's db/migration/{vendor}: another location
    })
    assert [m.version for m in found.migrations] == ["1", "2"]


def test_java_migrations_in_sub_packages_of_the_location_take_their_place(tmp_path: Path) -> None:
    # dhis2 keeps its Java migrations in sub-packages (db/migration/v34/V2_34_5__...java) of the
    # package its scripts are in: Flyway's classpath scan finds them there too.
    package = "org/hisp/dhis/db/migration"
    write_files(tmp_path, {
        f"src/main/resources/{package}/2.34/V2_34_1__Add_a.sql": "create table a (id int);",
        f"src/main/resources/{package}/2.35/V2_35_1__Add_b.sql": "create table b (id int);",
        f"src/main/java/{package}/v34/V2_34_5__Convert_columns.java": "class V2_34_5__Convert_columns {}",
        f"src/main/java/{package}/helper/JdbcHelper.java": "class JdbcHelper {}",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert [m.version for m in found.migrations] == ["2.34.1", "2.34.5", "2.35.1"]
    assert found.migrations[1].up is None and "Java" in (found.migrations[1].skip_reason or "")


def test_a_no_break_space_between_statements_is_a_space_to_flyway(tmp_path: Path) -> None:
    # dhis2's V2_36_20__Drop_legacy_sharing_tables.sql ends with `CASCADE;` and U+00A0: Flyway's
    # parser swallows it like a space; PostgreSQL alone read it as a statement ("syntax error").
    found = project(tmp_path, {"V1__drop.sql": "\u00a0create table a (id int);\u00a0\ncomment on table a is '\u00a0';\u00a0"})
    [migration] = found.migrations
    assert migration.up is not None and migration.up.sql == " create table a (id int); \ncomment on table a is '\u00a0'; "


def test_a_java_migration_that_loads_a_sql_resource_names_what_it_creates(pg_server: Database, tmp_path: Path) -> None:
    # dhis2's V2_30_0__Populate_dhis2_schema_if_empty_database.java loads its base schema: the
    # scripts after it that need those tables are not judged (with the link), not failed one by one.
    package = "org/hisp/dhis/db/migration"
    root = write_files(tmp_path / "repo", {
        f"src/main/java/{package}/base/V2_30_0__Populate_schema.java": (
            'class V2_30_0__Populate_schema { String SQL = "/org/hisp/dhis/db/base/base_schema.sql"; }'),
        "src/main/resources/org/hisp/dhis/db/base/base_schema.sql": "create table trackedentityattribute (id int);",
        f"src/main/resources/{package}/2.31/V2_31_1__Add_code.sql": "alter table trackedentityattribute add code text;",
        f"src/main/resources/{package}/2.32/V2_32_1__Add_other.sql": "alter table no_such_table add code text;",
    })
    subprocess.run(["git", "init", "-q", str(root)], check=True)  # the Java sources are the repository's
    report = tmp_path / "report.xml"
    main(["check", str(root / f"src/main/resources/{package}"), "--database-url", pg_server.conninfo,
          "--junit-xml", str(report), "-q"])
    cases = {c.attrib["name"]: c for c in ET.parse(report).getroot().iter("testcase")
             if c.attrib["classname"] == "migration_check.apply"}
    linked = cases["2.31.1_Add_code"].find("skipped")
    assert linked is not None and linked.attrib["message"].startswith(
        'not judged: it needs trackedentityattribute (relation "trackedentityattribute" does not exist), which')
    assert cases["2.32.1_Add_other"].find("failure") is not None  # nothing links this one: its own failure


def test_a_link_in_a_location_that_leads_back_up_is_not_followed(tmp_path: Path) -> None:
    found = project(tmp_path, {"V1__init.sql": "create table a (id int);"})
    (tmp_path / DIR / "loop").symlink_to(tmp_path / DIR, target_is_directory=True)
    assert [m.version for m in discover(tmp_path / DIR, repo_root=tmp_path).migrations] == ["1"] == [
        m.version for m in found.migrations]


def test_flyway_java_migrations_elsewhere_in_the_module_take_their_place(tmp_path: Path) -> None:
    # DSpace: the scripts in org/dspace/storage/rdbms/sqlmigration/postgres, the Java migrations in
    # org/dspace/storage/rdbms/migration, both locations of its code's configuration; V6_0_2015_03_06
    # drops the primary keys the next script adds again ("multiple primary keys" was its failure).
    scripts = "dspace-api/src/main/resources/org/dspace/storage/rdbms/sqlmigration/postgres"
    code = "dspace-api/src/main/java/org/dspace/storage/rdbms"
    write_files(tmp_path, {
        f"{scripts}/V6.0_2015.03.07__DS-2701_Hibernate_migration.sql": "alter table eperson add primary key (uuid);",
        f"{scripts}/V1.2__Initial.sql": "create table eperson (uuid uuid);",
        f"{code}/migration/V6_0_2015_03_06__DS_2701_Dso_Uuid_Migration.java": (
            "public class V6_0_2015_03_06__DS_2701_Dso_Uuid_Migration extends BaseJavaMigration {}"),
        f"{code}/util/V9_9__Not_a_migration.java": "public class V9_9__Not_a_migration {}",  # no Flyway type
        "other-module/src/main/java/db/V5__Elsewhere.java": "class V5__Elsewhere extends BaseJavaMigration {}",
    })
    found = discover(tmp_path / scripts, repo_root=tmp_path)
    assert [m.version for m in found.migrations] == ["1.2", "6.0.2015.03.06", "6.0.2015.03.07"]
    assert found.migrations[1].up is None


def test_java_migrations_of_other_databases_and_base_classes_are_not_the_locations(tmp_path: Path) -> None:
    # cloudfoundry/uaa: Flyway's location is db/<platform>; db/mysql's and db/hsqldb's Java migrations
    # are other platforms', and db/V2_7_3__StoreSubDomainAsLowerCase the base class each platform's
    # V2_7_3 extends: read as migrations, they were "Found more than one migration with version 2.7.3".
    base = "server/src/main/java/org/cloudfoundry/identity/uaa/db"
    scripts = "server/src/main/resources/org/cloudfoundry/identity/uaa/db/postgresql"
    write_files(tmp_path, {
        f"{scripts}/V2_0_4__Identity_Provider_Adjustments.sql": "create table identity_provider (id int);",
        f"{base}/V2_7_3__StoreSubDomainAsLowerCase.java": (
            "public class V2_7_3__StoreSubDomainAsLowerCase extends BaseJavaMigration {}"),
        f"{base}/postgresql/V2_7_3__StoreSubDomainAsLowerCase__Migrate_Zone_Subdomain_To_Lowercase.java": (
            "public class V2_7_3__StoreSubDomainAsLowerCase__Migrate_Zone_Subdomain_To_Lowercase\n"
            "    extends V2_7_3__StoreSubDomainAsLowerCase {}"),
        f"{base}/mysql/V4_9_2__AddPrimaryKeysIfMissing.java": (
            "public class V4_9_2__AddPrimaryKeysIfMissing extends BaseJavaMigration {}"),
        f"{base}/hsqldb/V1_5_3__InitialDBScript.java": "public class V1_5_3__InitialDBScript extends BaseJavaMigration {}",
    })
    found = discover(tmp_path / scripts, repo_root=tmp_path)
    assert [(m.version, m.name) for m in found.migrations] == [
        ("2.0.4", "Identity_Provider_Adjustments"), ("2.7.3", "StoreSubDomainAsLowerCase__Migrate_Zone_Subdomain_To_Lowercase")]


def test_the_script_names_the_project_configures(tmp_path: Path) -> None:
    # OpenLMIS: `spring.flyway.sql-migration-prefix=` (empty) and `schemas=referencedata`; its 134
    # scripts `20170206205240748__initial_schema.sql` were read as a numbered project, without the
    # schema Flyway makes and puts first on the search_path: "relation referencedata.roles does not exist".
    write_files(tmp_path, {
        "src/main/resources/application.properties": (
            "spring.flyway.schemas=referencedata\nspring.flyway.sql-migration-prefix=\n"
            "spring.flyway.sql-migration-separator=__\nspring.flyway.sql-migration-suffixes=.sql,.pgsql\n"),
        DIR + "20170206205240748__initial_schema.sql": "create table roles (id int);",
        DIR + "20170206205310272__bootstrap.pgsql": "insert into referencedata.roles values (1);",
        DIR + "R__views.sql": "create or replace view v as select 1;",
        DIR + "V3__not_with_this_prefix.sql": "select 1;",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "flyway" and found.reason.startswith("2 files named <version>__<description>.sql")
    assert [m.version for m in found.migrations] == ["20170206205240748", "20170206205310272", "R__views"]
    assert [s.path.name for s in found.stray_files] == ["V3__not_with_this_prefix.sql"]
    naming = {r.subject: r.status for r in static_checks(found, Settings()) if r.check == "naming"}
    assert naming["20170206205240748__initial_schema.sql"] is Status.PASSED
    assert naming["V3__not_with_this_prefix.sql"] is not Status.PASSED


def test_a_java_migration_that_gives_its_own_version_has_it(tmp_path: Path) -> None:
    # MarquezProject/marquez: V57_1__BackfillFacets implements JavaMigration and returns version 57.2
    # (57.1 is a SQL script's); V44_3_BackfillJobsWithParents, no name Flyway reads, is migration 44.3.
    scripts = "api/src/main/resources/marquez/db/migration"
    code = "api/src/main/java/marquez/db/migrations"
    write_files(tmp_path, {
        f"{scripts}/V44__jobs.sql": "create table jobs (id int);",
        f"{scripts}/V57.1__add_migration_lock.sql": "create table locks (id int);",
        f"{code}/V57_1__BackfillFacets.java": (
            "public class V57_1__BackfillFacets implements JavaMigration {\n"
            '  public MigrationVersion getVersion() {\n    return MigrationVersion.fromVersion("57.2");\n  }\n'
            '  public String getDescription() {\n    return "BackFillFacets";\n  }\n}\n'),
        f"{code}/V44_3_BackfillJobsWithParents.java": (
            "public class V44_3_BackfillJobsWithParents implements JavaMigration {\n"
            '  public static final MigrationVersion VERSION = MigrationVersion.fromVersion("44.3");\n'
            "  public MigrationVersion getVersion() { return VERSION; }\n}\n"),
        f"{code}/Versions.java": 'class Versions { static MigrationVersion V1 = MigrationVersion.fromVersion("1"); }',
    })
    found = discover(tmp_path / scripts, repo_root=tmp_path)
    assert [(m.version, m.name) for m in found.migrations] == [
        ("44", "jobs"), ("44.3", "V44_3_BackfillJobsWithParents"), ("57.1", "add_migration_lock"), ("57.2", "BackFillFacets")]
    assert all(m.up is None for m in found.migrations if m.version in ("44.3", "57.2"))
    # Its code gives Flyway its version: no name rule applies to it (marquez's V44_3_... failed naming).
    naming = {r.subject: r.status for r in static_checks(found, Settings()) if r.check == "naming"}
    assert naming["V44_3_BackfillJobsWithParents.java"] is Status.PASSED
