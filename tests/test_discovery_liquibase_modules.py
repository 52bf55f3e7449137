"""Liquibase in a multi-module, multi-database project, as apache/fineract keeps it: the master
changelog in one module includes changelogs from the others' resources, an optional folder, and
changesets for MySQL beside those for PostgreSQL, told apart by contexts named for the databases;
MySQL dumps of an old release lie elsewhere in the tree."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import detect, discover
from migration_check.discovery.liquibase_changes import change_sql
from migration_check.history.linear import local_findings
from migration_check.history.snapshots import project_snapshot
from migration_check.servers.base import Database
from migration_check.sql.dialects import written_for

RESOURCES = "fineract-provider/src/main/resources"
CHANGELOG = f"{RESOURCES}/db/changelog"
HEAD = '<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'


def test_sql_written_for_another_database_is_read_from_the_parser() -> None:
    assert written_for("select 1;\ncreate table `t` (id int);") == "MySQL"
    assert written_for("create table t (id integer primary key autoincrement);") == "SQLite"
    # A statement the parser cannot read for another reason does not hide the next one.
    assert written_for("select 1 \ufeff;\nDROP TABLE IF EXISTS `t`;") == "MySQL"
    assert written_for("create table t (id int);") is None
    assert written_for("select '`' as quote; -- `x`") is None  # in a string and a comment: PostgreSQL's
    # ENGINE = is MySQL's and ClickHouse's: the engine says whose (devflowinc/trieve's ch_migrations).
    assert written_for("CREATE TABLE t (id UUID) ENGINE = ReplacingMergeTree(created_at) ORDER BY (id);") == "ClickHouse"
    assert written_for("CREATE TABLE t (id int) ENGINE=InnoDB DEFAULT CHARSET=utf8;") == "MySQL"
    # Types no PostgreSQL has, in statements its grammar reads.
    assert written_for("ALTER TABLE search_queries ADD COLUMN IF NOT EXISTS is_duplicate UInt8 DEFAULT 0;") == "ClickHouse"
    assert written_for("ALTER TABLE t ADD COLUMN body mediumtext;") == "MySQL"
    assert written_for("ALTER TABLE t ADD COLUMN n int8, ADD COLUMN s text;") is None


def test_mysql_dumps_beside_a_changelog_are_set_aside(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        "fineract-db/old-schema-files/0003-permissions.sql": "DROP TABLE IF EXISTS `m_permission`;\n",
        # MySQL's backslash escapes: the scanner cannot even cut this one; it reads as no PostgreSQL either.
        "fineract-db/old-schema-files/0002-reference-data.sql": "insert into m_code values (1, 'it\\'s');\n",
        f"{CHANGELOG}/db.changelog-master.xml": HEAD + '  <changeSet id="1" author="ada"><sql>create table t (id int)</sql>'
                                                "</changeSet>\n</databaseChangeLog>\n",
    })
    layout, directory, detection = detect(tmp_path)
    assert layout.name == "liquibase" and directory == tmp_path / CHANGELOG
    assert "fineract-db/old-schema-files (MySQL SQL), for another database" in detection.reason


def test_clickhouse_migrations_that_partly_read_as_postgresql_are_set_aside(tmp_path: Path) -> None:
    # devflowinc/trieve's pdf2md/server/ch_migrations: of five ClickHouse scripts, three read as
    # PostgreSQL's grammar (`ADD COLUMN file_name String`), so "none reads" missed them.
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        "server/migrations/001_init.sql": "create table file_tasks (id text primary key);\n",
        "server/ch_migrations/001_initial_tables.sql": "CREATE TABLE IF NOT EXISTS file_tasks (id String, pages UInt32,"
                                                       " created_at DateTime) ENGINE = MergeTree() ORDER BY (id);\n",
        "server/ch_migrations/002_remove_chunks.sql": "ALTER TABLE file_tasks DROP COLUMN IF EXISTS chunks;\n",
        "server/ch_migrations/003_add_file_name.sql": "ALTER TABLE file_tasks ADD COLUMN IF NOT EXISTS file_name String;\n",
        "server/ch_migrations/004_add_provider.sql": "ALTER TABLE file_tasks ADD COLUMN IF NOT EXISTS provider String;\n",
    })
    layout, directory, detection = detect(tmp_path)
    assert directory == tmp_path / "server/migrations"
    assert "server/ch_migrations (ClickHouse SQL), for another database" in detection.reason


def test_a_postgresql_directory_with_one_mysql_looking_file_is_still_postgresql(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        "db/mysql-dumps/0001_core.sql": "CREATE TABLE `t` (id int) ENGINE=InnoDB;\n",
        "db/schema/0001_core.sql": "create table t (id int);\n",
        "db/schema/0002_typo.sql": "alter table `t` add column x int;\n",  # one slip among PostgreSQL files
    })
    layout, directory, _ = detect(tmp_path)
    assert directory == tmp_path / "db/schema"


def test_includes_from_other_modules_and_optional_ones(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        f"{CHANGELOG}/db.changelog-master.xml": HEAD + (
            '  <include file="db/changelog/tenant/module/loan/module-changelog-master.xml"/>\n'
            '  <includeAll path="db/custom-changelog" errorIfMissingOrEmpty="false"/>\n'
            '  <include file="db/changelog/extra.xml" errorIfMissing="false"/>\n'
            "</databaseChangeLog>\n"),
        "fineract-loan/src/main/resources/db/changelog/tenant/module/loan/module-changelog-master.xml": HEAD + (
            '  <changeSet id="loan-1" author="ada"><sql>create table m_loan (id int)</sql></changeSet>\n</databaseChangeLog>\n'),
    })
    [loan] = discover(tmp_path / CHANGELOG, repo_root=tmp_path).migrations
    assert loan.up is not None and loan.up.sql == "create table m_loan (id int)"


def test_a_missing_include_is_refused_at_its_own_line(tmp_path: Path) -> None:
    write_files(tmp_path, {f"{CHANGELOG}/db.changelog-master.xml": HEAD + (
        '  <changeSet id="1" author="ada"><sql>create table t (id int)</sql></changeSet>\n'
        '  <include file="db/changelog/tenant/missing.xml"/>\n</databaseChangeLog>\n')})
    found = discover(tmp_path / CHANGELOG, repo_root=tmp_path)
    [refusal] = found.refusals
    assert refusal.line == 3 and refusal.message == "db/changelog/tenant/missing.xml is not there"
    first, missing = found.migrations
    assert first.up is not None and not first.refused
    assert missing.refused and missing.label == "db.changelog-master.xml:3 include db/changelog/tenant/missing.xml"


def test_changesets_for_another_database_by_their_context(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {f"{CHANGELOG}/db.changelog-master.xml": HEAD + (
        '  <changeSet id="1" author="fineract" context="postgresql"><sql>create table t (id int)</sql></changeSet>\n'
        '  <changeSet id="1" author="fineract" context="mysql">'
        "<sql>ALTER TABLE t MODIFY id BIGINT NOT NULL</sql></changeSet>\n"
        '  <changeSet id="2" author="fineract" context="tenant_db AND !initial_switch">'
        "<sql>create index t_id on t (id)</sql></changeSet>\n</databaseChangeLog>\n")})
    found = discover(tmp_path / CHANGELOG, repo_root=tmp_path)
    postgresql, mysql, tenant = found.migrations
    assert postgresql.skip_reason is None and tenant.skip_reason is None  # no contexts given: Liquibase runs them
    assert mysql.filtered and mysql.skip_reason == (
        "Liquibase does not run it on PostgreSQL: its context (mysql) is MySQL's, and a changelog written for several"
        " databases runs with its database's name among the contexts")
    # One id for both: Liquibase never runs them together, so no duplicate version either.
    assert local_findings(project_snapshot(found)) == []


def test_change_types_as_liquibase_writes_them_for_postgresql() -> None:
    table = {"tableName": "interop_identifier", "columns": [
        {"column": {"name": "created_on", "type": "timestamp", "defaultValueComputed": "current_timestamp()"}},
        {"column": {"name": "never_expires", "type": "boolean", "defaultValueNumeric": "0"}},
        {"column": {"name": "notes", "type": "MEDIUMTEXT"}},
    ]}
    assert change_sql("createTable", table, "LEGACY") == (
        "CREATE TABLE interop_identifier (created_on TIMESTAMP WITHOUT TIME ZONE DEFAULT NOW(),"
        " never_expires BOOLEAN DEFAULT FALSE, notes TEXT);")
    assert change_sql("addUniqueConstraint", {"tableName": "m_loan_transaction", "columnNames": "reversal_external_id,",
                                              "constraintName": "uq_reversal"}, "LEGACY") == (
        "ALTER TABLE m_loan_transaction ADD CONSTRAINT uq_reversal UNIQUE (reversal_external_id);")
    # A column list's names are escaped as the column's own definition escapes them.
    assert change_sql("addPrimaryKey", {"tableName": "t", "columnNames": "tenantId, id"}, "LEGACY") == (
        'ALTER TABLE t ADD PRIMARY KEY ("tenantId", id);')


def test_a_changeset_for_another_database_keeps_its_reason_where_the_replay_stopped(
        pg_server: Database, tmp_path: Path) -> None:
    # apache/fineract: once later changesets could not run (the ups no longer applied in a fresh
    # database), its MySQL changesets were parsed as PostgreSQL and failed at `MODIFY`.
    root = write_files(tmp_path / "repo", {"db/changelog/db.changelog-master.sql": (
        "--liquibase formatted sql\n"
        "--changeset ada:1\ncreate table t (id int primary key);\n--rollback drop table t;\n"
        # Runs on the generated rows only, and its rollback leaves `v`: the state is rebuilt without
        # rows, where it fails, so nothing after it can run.
        "--changeset ada:2 splitStatements:false\n"
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM t) THEN RAISE EXCEPTION 'needs rows'; END IF; END $$;\n"
        "create table u (id int);\n--rollback drop table u; create table v (id int);\n"
        "--changeset ada:3 context:mysql\nALTER TABLE t MODIFY id BIGINT NOT NULL;\n")})
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    report = tmp_path / "report.xml"
    main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    cases = {(c.attrib["classname"], c.attrib["name"]): c for c in ET.parse(report).getroot().iter("testcase")}
    stopped = cases[("migration_check.apply", "db.changelog-master.sql::3::ada")]
    assert stopped.find("failure") is None
    skipped = stopped.find("skipped")
    assert skipped is not None and skipped.attrib["message"].startswith("Liquibase does not run it on PostgreSQL")
    # Its round trip was judged; the state after it is what could not be made again.
    judged = cases[("migration_check.roundtrip", "db.changelog-master.sql::2::ada")].find("failure")
    assert judged is not None and "table public.v: created by the rollback" in judged.attrib["message"]


def test_a_parameter_the_application_gives_liquibase(pg_server: Database, tmp_path: Path) -> None:
    # fineract's tenant store rows take `${fineract.tenant.port}` from its code; a Spring Boot
    # project gives them as spring.liquibase.parameters.*. Where nothing here gives one, the text
    # stays as Liquibase leaves it (fineract's report SQL keeps `${officeId}` on purpose), and a
    # failure says so.
    changelog = {f"{CHANGELOG}/db.changelog-master.xml": HEAD + (
        '  <changeSet id="1" author="fineract"><createTable tableName="tenant_server_connections">\n'
        '    <column name="schema_server_port" type="INT"/><column name="report" type="TEXT"/></createTable>\n'
        "  </changeSet>\n"
        '  <changeSet id="2" author="fineract"><insert tableName="tenant_server_connections">\n'
        '    <column name="schema_server_port" value="${fineract.tenant.port}"/>\n'
        '    <column name="report" value="select * from m_office where id = ${officeId}"/></insert></changeSet>\n'
        "</databaseChangeLog>\n")}
    given = write_files(tmp_path / "given", {
        **changelog, f"{RESOURCES}/application.properties": "spring.liquibase.parameters.fineract.tenant.port=5432\n"})
    _, insert = discover(given / CHANGELOG, repo_root=given).migrations
    assert insert.up is not None and "'5432'" in insert.up.sql and "${officeId}" in insert.up.sql
    root = write_files(tmp_path / "missing", changelog)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    report = tmp_path / "report.xml"
    main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    cases = {(c.attrib["classname"], c.attrib["name"]): c for c in ET.parse(report).getroot().iter("testcase")}
    failure = cases[("migration_check.apply", "db.changelog-master.xml::2::fineract")].find("failure")
    assert failure is not None and failure.attrib["message"].endswith(
        "(the statement keeps ${fineract.tenant.port}, ${officeId} as written, as Liquibase does where it is given no"
        " value: if the project's code gives it one, give it here as `spring.liquibase.parameters.<name>` in an"
        " application file)")


def test_change_set_executed_is_decided_from_the_changelog(tmp_path: Path) -> None:
    # traccar's 4.0 changesets run only where the 3.3 one never ran: on the new database the replay
    # builds, the changesets before one are exactly those that ran (it was "a kind this check does
    # not evaluate", and every later changeset was not judged).
    def guarded(changeset_id: str, inner: str) -> str:
        return (f'  <changeSet id="{changeset_id}" author="ada"><preConditions onFail="MARK_RAN">{inner}</preConditions>'
                f"<sql>select '{changeset_id}'</sql></changeSet>\n")
    write_files(tmp_path, {f"{CHANGELOG}/db.changelog-master.xml": HEAD + (
        '  <changeSet id="first" author="ada"><sql>select 1</sql></changeSet>\n'
        + guarded("clean", '<not><changeSetExecuted changeLogFile="changelog-3.3" id="changelog-3.3" author="ada"/></not>')
        + guarded("after-first", '<changeSetExecuted changeLogFile="db.changelog-master.xml" id="first" author="ada"/>')
        + guarded("before-last", '<changeSetExecuted changeLogFile="db.changelog-master" id="last" author="ada"/>')
        + '  <changeSet id="last" author="ada"><sql>select 2</sql></changeSet>\n</databaseChangeLog>\n')})
    _, clean, after_first, before_last, _ = discover(tmp_path / CHANGELOG, repo_root=tmp_path).migrations
    assert (clean.precondition, after_first.precondition, before_last.precondition) == (
        "(NOT (FALSE))", "(TRUE)", "(FALSE)")
    assert clean.skip_reason is None and before_last.skip_reason is None  # decided on the database, as the others


def test_modify_sql_for_postgresql_and_jdbc_type_names(tmp_path: Path) -> None:
    # ORCID-Source: `modifySql dbms="postgresql"` turns the TIMESTAMP WITH TIME ZONE its createTable
    # writes into WITHOUT: it was "a change type this check does not write" and its base install,
    # with every changeset after it, was not replayed. Its 1.0.17 gives `java.sql.Types.VARCHAR(500)`.
    write_files(tmp_path, {f"{CHANGELOG}/db.changelog-master.xml": HEAD + (
        '  <changeSet id="install" author="ada"><createTable tableName="t">'
        '<column name="at" type="TIMESTAMP WITH TIME ZONE"/><column name="v" type="VARCHAR(20)"/></createTable>\n'
        '    <modifySql dbms="hsqldb"><replace replace="VARCHAR" with="LONGVARCHAR"/></modifySql>\n'
        '    <modifySql dbms="postgresql"><replace replace="WITH TIME ZONE" with="WITHOUT TIME ZONE"/>'
        '<regExpReplace replace="VARCHAR\\((\\d+)\\)" with="VARCHAR($1) COLLATE &quot;C&quot;"/></modifySql>\n'
        "  </changeSet>\n"
        '  <changeSet id="widen" author="ada"><modifyDataType tableName="t" columnName="v"'
        ' newDataType="java.sql.Types.VARCHAR(500)"/></changeSet>\n'
        '  <changeSet id="engine" author="ada"><createTable tableName="u"><column name="id" type="INT"/></createTable>\n'
        '    <modifySql dbms="postgresql"><append value=" WITH (fillfactor = 70)"/></modifySql></changeSet>\n'
        "</databaseChangeLog>\n")})
    install, widen, engine = discover(tmp_path / CHANGELOG, repo_root=tmp_path).migrations
    assert install.skip_reason is None and install.up is not None
    assert install.up.sql.startswith('CREATE TABLE t (at TIMESTAMP WITHOUT TIME ZONE, v VARCHAR(20) COLLATE "C");')
    assert widen.up is not None and "TYPE VARCHAR(500)" in widen.up.sql
    assert engine.skip_reason == "Liquibase change types this check does not write as SQL (modifySql append): not replayed"


def test_the_changelog_liquibase_properties_names_beside_a_database_images_init_scripts(tmp_path: Path) -> None:
    # ORCID-Source: liquibase.properties says `changeLogFile=db-master.xml`, whose includes start at
    # the classpath's root (`/db/install.xml`); its docker-entrypoint-initdb.d scripts create the
    # development databases and `\connect` to them, and were checked as the project's migrations.
    resources = "orcid-persistence/src/main/resources"
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        "docker-entrypoint-initdb.d/4-orcid-schema.sql": "create database orcid;\n\\connect orcid\n",
        "docker-entrypoint-initdb.d/5-orcid-extension.sql": "\\connect orcid\ncreate extension pgcrypto;\n",
        f"{resources}/liquibase.properties": "driver=org.postgresql.Driver\nchangeLogFile=db-master.xml\n",
        f"{resources}/db-master.xml": HEAD + '  <include file="/db/install.xml"/>\n</databaseChangeLog>\n',
        f"{resources}/db/install.xml": HEAD + (
            '  <changeSet id="BASE-INSTALL" author="ada"><sql>create table profile (orcid text)</sql></changeSet>\n'
            "</databaseChangeLog>\n"),
    })
    layout, directory, detection = detect(tmp_path)
    assert layout.name == "liquibase" and directory == tmp_path / resources
    assert "docker-entrypoint-initdb.d, the database image's init scripts" in detection.reason
    [install] = discover(tmp_path / resources, repo_root=tmp_path).migrations
    assert install.id == "db/install.xml::BASE-INSTALL::ada"


def test_an_include_all_reads_the_folder_in_every_module(tmp_path: Path) -> None:
    # apache/fineract (before FINERACT-2081): `<includeAll path="db/changelog/tenant/module"/>` in
    # fineract-provider's master lists that folder on the whole classpath, fineract-investor's and
    # fineract-loan's resources alike. Only the first folder found was read: every loan changeset
    # was missing from the base, and then "new on this branch".
    def module(name: str, number: int) -> dict[str, str]:
        folder = f"fineract-{name}/src/main/resources/db/changelog/tenant/module/{name}"
        return {f"{folder}/module-changelog-master.xml": HEAD + f'  <include file="parts/{number}_x.xml"'
                                                          ' relativeToChangelogFile="true"/>\n</databaseChangeLog>\n',
                f"{folder}/parts/{number}_x.xml": HEAD + f'  <changeSet id="{number}" author="ada"><sql>create table'
                                                 f' {name} (id int)</sql></changeSet>\n</databaseChangeLog>\n'}
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        f"{CHANGELOG}/db.changelog-master.xml": HEAD + '  <changeSet id="1" author="ada"><sql>create table t (id int)'
        '</sql></changeSet>\n  <includeAll path="db/changelog/tenant/module"/>\n</databaseChangeLog>\n',
        **module("investor", 2), **module("loan", 1001)})
    assert [m.up.sql for m in discover(tmp_path / CHANGELOG, repo_root=tmp_path).migrations if m.up] == [
        "create table t (id int)", "create table investor (id int)", "create table loan (id int)"]
