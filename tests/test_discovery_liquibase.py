"""Liquibase discovery: the master changelog and what it includes, formatted SQL read as Liquibase's
parser reads it, structured changesets of SQL, and the change types Liquibase writes itself
(City-of-Helsinki/haitaton-backend, read as a numbered project, failed its SQL changesets for the
tables its YAML changesets create)."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import discover
from migration_check.discovery.liquibase_changelog import master_changelog
from migration_check.discovery.liquibase_formatted import parse_formatted_sql
from migration_check.errors import FileError
from migration_check.model import Transaction
from migration_check.servers.base import Database

RESOURCES = "src/main/resources"


def test_formatted_sql_as_liquibase_reads_it(tmp_path: Path) -> None:
    text = ("--liquibase formatted sql\n"
            "--changeset ada:1\n"
            "create table t (id int);\n"
            "--rollback drop table t;\n"
            "--changeset 003-no-author comment:Liquibase reads the author up to the first colon\n"
            "update t set id = 1;\n"
            "--rollback not required\n"
            "-- changeset bob:idx runInTransaction:false dbms:postgresql,h2\n"
            "create index concurrently t_idx on t (id);\n"
            "/* liquibase rollback\n"
            "drop index concurrently t_idx;\n"
            "*/\n"
            "--changeset bob:mysql-only dbms:mysql\n"
            "select 1;\n")
    first, second, third, fourth = parse_formatted_sql(tmp_path / "x.sql", text)
    assert (first.author, first.id, first.line, first.rollback, first.rollback_line) == ("ada", "1", 2, ["drop table t;"], 4)
    assert (second.author, second.id, second.no_rollback) == ("003-no-author comment", "Liquibase", True)
    assert third.run_in_transaction is False and third.for_postgresql and third.rollback == ["drop index concurrently t_idx;", ""]
    assert not fourth.for_postgresql
    with pytest.raises(FileError) as error:
        parse_formatted_sql(tmp_path / "x.sql", "--liquibase formatted sql\n--changeset no-colon\nselect 1;\n")
    assert error.value.line == 2


def test_a_master_changelog_its_includes_and_the_search_path(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    changelog = f"{RESOURCES}/db/changelog"
    write_files(tmp_path, {
        f"{changelog}/db.changelog-master.yaml": (
            "databaseChangeLog:\n"
            "  - include:\n      file: db/changelog/changes/001-users.sql\n"  # Spring Boot: from the classpath root
            "  - include:\n      file: changes/002-roles.yaml\n      relativeToChangelogFile: true\n"
            "  - includeAll:\n      path: db/changelog/later/\n"
            "  - changeSet:\n      id: inline\n      author: ada\n      changes:\n        - sql:\n            sql: insert into users values (1)\n"),
        f"{changelog}/changes/001-users.sql": ("--liquibase formatted sql\n--changeset ada:users\n"
                                               "create table users (id int primary key);\n--rollback drop table users;\n"),
        f"{changelog}/changes/002-roles.yaml": (
            "databaseChangeLog:\n  - changeSet:\n      id: roles\n      author: bob\n      changes:\n"
            "        - mergeColumns:\n            tableName: roles\n            column1Name: a\n"
            "  - changeSet:\n      id: roles-sql\n      author: bob\n      runInTransaction: false\n      changes:\n"
            "        - sqlFile:\n            path: sql/roles.sql\n            relativeToChangelogFile: true\n"
            "      rollback:\n        - sql:\n            sql: drop table role_names\n"),
        f"{changelog}/changes/sql/roles.sql": "create table role_names (name text);\n",
        f"{changelog}/later/b.sql": "--liquibase formatted sql\n--changeset ada:b\nselect 2;\n",
        f"{changelog}/later/a.sql": "--liquibase formatted sql\n--changeset ada:a\nselect 1;\n",
        # A plain SQL file is one changeset to Liquibase (SqlChangeLogParser): `raw`, by `includeAll`.
        f"{changelog}/later/c-plain.sql": "create function f() returns int language sql as 'select 1';\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "liquibase" and found.reason.startswith("db.changelog-master.yaml and 7 changesets")
    assert [m.id for m in found.migrations] == [
        "changes/001-users.sql::users::ada", "changes/002-roles.yaml::roles::bob", "changes/002-roles.yaml::roles-sql::bob",
        "later/a.sql::a::ada", "later/b.sql::b::ada", "later/c-plain.sql::raw::includeAll",
        "db.changelog-master.yaml::inline::ada"]
    users, roles, roles_sql, *_, inline = found.migrations
    assert users.up is not None and users.up.first_line == 3 and users.down is not None and users.down.sql == "drop table users;"
    assert roles.skip_reason == "Liquibase change types this check does not write as SQL (mergeColumns): not replayed"
    assert roles_sql.up is not None and roles_sql.up.path.name == "roles.sql" and roles_sql.up.transaction is Transaction.NONE
    assert roles_sql.down is not None and roles_sql.down.sql == "drop table role_names"
    assert inline.up is not None and inline.up.sql == "insert into users values (1)"
    # The folders the changelog includes are its own: no second migrations directory in the search.
    assert found.directory == (tmp_path / changelog).resolve()


def test_an_xml_changelog(tmp_path: Path) -> None:
    write_files(tmp_path, {"changelog/db.changelog-master.xml": (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'
        '  <changeSet id="1" author="ada">\n'
        "    <sql>create table t (id int)</sql>\n"
        "    <rollback>drop table t</rollback>\n"
        "  </changeSet>\n"
        '  <changeSet id="2" author="ada" dbms="oracle">\n    <sql>select 1 from dual</sql>\n  </changeSet>\n'
        '  <changeSet id="3" author="ada">\n    <addColumn tableName="t"><column name="x" type="int"/></addColumn>\n'
        "    <rollback><dropColumn tableName=\"t\" columnName=\"x\"/></rollback>\n  </changeSet>\n"
        '  <changeSet id="4" author="ada">\n    <mergeColumns tableName="t" column1Name="a"/>\n'
        "    <rollback><mergeColumns tableName=\"t\" column1Name=\"b\"/></rollback>\n  </changeSet>\n"
        "</databaseChangeLog>\n")})
    found = discover(tmp_path / "changelog", repo_root=tmp_path)
    first, third, fourth = found.migrations
    assert first.up is not None and first.up.sql == "create table t (id int)" and first.up.first_line == 3
    assert first.down is not None and first.down.sql == "drop table t"
    assert third.up is not None and third.up.sql == "ALTER TABLE t ADD x INTEGER;"
    assert third.down is not None and third.down.sql == "ALTER TABLE t DROP COLUMN x;"
    assert fourth.skip_reason == "Liquibase change types this check does not write as SQL (mergeColumns): not replayed"
    assert fourth.down_skip_reason == "its rollback is Liquibase change types this check does not write as SQL (mergeColumns)"


def test_what_liquibase_cannot_read_is_refused_at_its_line_and_the_rest_still_judged(tmp_path: Path) -> None:
    # Liquibase reads the whole tree before it runs anything and stops at the first of these; each
    # gets its verdict at its own line (a YAML entry's is its first key's), and every changeset it
    # can read is still replayed.
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        "db/changelog/db.changelog-master.yaml": (
            "databaseChangeLog:\n"
            "  - include:\n      file: db/changelog/missing.sql\n"
            "  - include:\n      file: db/changelog/broken.yaml\n"
            "  - changeSet:\n      id: 2\n      author: ada\n      changes:\n"
            "        - sqlFile:\n            path: db/changelog/gone.sql\n"
            "  - include:\n      file: db/changelog/good.sql\n"),
        "db/changelog/broken.yaml": "databaseChangeLog:\n  - changeSet: [\n",
        "db/changelog/good.sql": "--liquibase formatted sql\n--changeset ada:3\ncreate table t (id int);\n"})
    found = discover(tmp_path / "db/changelog", repo_root=tmp_path)
    missing, broken, gone, good = found.migrations
    assert [(refusal.path.name, refusal.line) for refusal in found.refusals] == [
        ("db.changelog-master.yaml", 3), ("broken.yaml", 3), ("db.changelog-master.yaml", 7)]
    assert found.refusals[0].message == "db/changelog/missing.sql is not there"
    assert missing.refused and missing.up is None and missing.skip_reason == (
        "Liquibase cannot read it (line 3): db/changelog/missing.sql is not there")
    assert found.refusals[1].message == "invalid changelog: expected the node content, but found '<stream end>'"
    assert broken.refused and gone.refused and gone.version == "2"
    assert not good.refused and good.up is not None and good.up.sql == "create table t (id int);\n"


def test_a_master_changelog_that_does_not_read_still_stops_the_run(tmp_path: Path) -> None:
    write_files(tmp_path, {"db/changelog/db.changelog-master.yaml": "databaseChangeLog:\n  - changeSet: [\n"})
    with pytest.raises(FileError) as error:
        discover(tmp_path / "db/changelog", repo_root=tmp_path)
    assert error.value.line == 3


def test_liquibase_change_types_written_as_its_postgresql_generators_write_them(tmp_path: Path) -> None:
    # haitaton-backend's YAML changesets, the kinds it uses, and the rollbacks Liquibase derives.
    write_files(tmp_path, {"db/changelog/db.changelog-master.yaml": """databaseChangeLog:
  - changeSet:
      id: permissions
      author: janne
      changes:
        - createTable:
            tableName: permissions
            remarks: Who may do what
            columns:
              - column: { name: id, type: integer, constraints: { primaryKey: true, nullable: false } }
              - column: { name: permissionCode, type: bigint, constraints: { nullable: false } }
              - column: { name: created_at, type: timestamp with timezone, defaultValueComputed: now() }
        - addAutoIncrement: { tableName: permissions, columnName: id, columnDataType: integer, generationType: ALWAYS }
  - changeSet:
      id: rename
      author: janne
      changes:
        - renameColumn: { tableName: permissions, oldColumnName: permissionCode, newColumnName: permissioncode }
        - addNotNullConstraint: { tableName: permissions, columnName: created_at, defaultNullValue: '2020-01-01' }
        - createIndex:
            tableName: permissions
            indexName: permissions_code_idx
            unique: true
            columns:
              - column: { name: permissioncode }
  - changeSet:
      id: seed
      author: janne
      changes:
        - insert:
            tableName: permissions
            columns:
              - column: { name: id, valueNumeric: 1 }
              - column: { name: permissioncode, value: "15" }
"""})
    permissions, rename, seed = discover(tmp_path / "db/changelog", repo_root=tmp_path).migrations
    assert permissions.up is not None and permissions.up.sql.startswith(
        'CREATE TABLE permissions (id INTEGER NOT NULL, "permissionCode" BIGINT NOT NULL, created_at TIMESTAMP WITH TIME ZONE'
        # `now()` is Liquibase's current time function for PostgreSQL: it writes its own spelling.
        " DEFAULT NOW(), PRIMARY KEY (id));\nCOMMENT ON TABLE permissions IS 'Who may do what';\n"
        # Liquibase's addAutoIncrement on PostgreSQL is a sequence the column owns, not an identity.
        "CREATE SEQUENCE permissions_id_seq;\n")
    # createTable derives its DROP TABLE; addAutoIncrement derives nothing: no rollback at all.
    assert permissions.down is None
    assert rename.down is not None and rename.down.sql == (
        "DROP INDEX permissions_code_idx;\nALTER TABLE permissions ALTER COLUMN created_at DROP NOT NULL;\n"
        'ALTER TABLE permissions RENAME COLUMN permissioncode TO "permissionCode";')
    assert seed.up is not None and seed.up.sql == "INSERT INTO permissions (id, permissioncode) VALUES (1, '15');"
    assert seed.down is None  # an insert has no inverse


def test_quoting_strategy_serial_types_and_changelog_properties(tmp_path: Path) -> None:
    # AAFC-BICoE/agent-api and seqdb-api: `type="SERIAL" autoIncrement="true"` (no identity on a
    # serial), `${uuid_function}` from a <property> for PostgreSQL, and
    # objectQuotingStrategy="QUOTE_ONLY_RESERVED_WORDS", under which `ContainerTypes` is not quoted.
    write_files(tmp_path, {"changelog/db.changelog-master.xml": (
        '<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog"'
        ' objectQuotingStrategy="QUOTE_ONLY_RESERVED_WORDS">\n'
        '  <property name="uuid_function" value="gen_random_uuid()" dbms="postgresql"/>\n'
        '  <property name="uuid_function" value="uuid()" dbms="mysql"/>\n'
        '  <changeSet id="1" author="ada">\n'
        '    <createTable tableName="ContainerTypes">\n'
        '      <column autoIncrement="true" name="id" type="SERIAL"><constraints primaryKey="true"/></column>\n'
        '      <column name="uuid" type="uuid" defaultValueComputed="${uuid_function}"/>\n'
        '      <column name="user" type="text"/>\n'
        "    </createTable>\n  </changeSet>\n"
        '  <changeSet id="2" author="ada" objectQuotingStrategy="LEGACY">\n'
        '    <renameSequence oldSequenceName="ContainerTypes_id_seq" newSequenceName="container_types_id_seq"/>\n'
        "  </changeSet>\n</databaseChangeLog>\n")})
    create, rename = discover(tmp_path / "changelog", repo_root=tmp_path).migrations
    assert create.up is not None and create.up.sql == (
        'CREATE TABLE ContainerTypes (id SERIAL NOT NULL, uuid UUID DEFAULT gen_random_uuid(), "user" TEXT, PRIMARY KEY (id));')
    assert create.down is not None and create.down.sql == "DROP TABLE ContainerTypes;"
    assert rename.up is not None and rename.up.sql == 'ALTER SEQUENCE "ContainerTypes_id_seq" RENAME TO container_types_id_seq;'


def test_a_parameter_is_put_in_before_the_change_type_writes_its_sql(tmp_path: Path) -> None:
    # jhipster/jhipster-sample-app: `type="${datetimeType}"`, `datetime` for PostgreSQL, which
    # Liquibase writes as a timestamp; put in after writing, it was a type PostgreSQL does not have.
    write_files(tmp_path, {"changelog/master.xml": (
        '<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'
        '  <property name="datetimeType" value="datetime(6)" dbms="mysql, mariadb"/>\n'
        '  <property name="datetimeType" value="datetime" dbms="oracle, mssql, postgresql, h2"/>\n'
        '  <changeSet id="1" author="jhipster">\n'
        '    <createTable tableName="operation">\n'
        '      <column name="date" type="${datetimeType}"/>\n'
        "    </createTable>\n  </changeSet>\n</databaseChangeLog>\n")})
    [create] = discover(tmp_path / "changelog", repo_root=tmp_path).migrations
    assert create.up is not None and create.up.sql == "CREATE TABLE operation (date TIMESTAMP WITHOUT TIME ZONE);"


def test_changeset_ids_that_read_as_numbers_are_no_order_of_file_names(tmp_path: Path) -> None:
    # 5knew/library-backend: ids 001 ... 012 in a changelog that runs 003 before 001; the
    # changelog orders them, so "runs after ... as a number but sorts before it as text" is no finding.
    from migration_check.history.linear_check import check_history
    from migration_check.settings import Settings

    changesets = [("changelog-003-create-author-table.xml", "003"), ("changelog-001-create-category-table.xml", "001"),
                  ("changelog-010-load-books-data.xml", "010"), ("changelog-002-load-category-data.xml", "002")]
    files = {f"db/changelog/{name}": (f'<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'
                                      f'  <changeSet id="{id_}" author="admin"><sql>select 1</sql></changeSet>\n'
                                      "</databaseChangeLog>\n") for name, id_ in changesets}
    files["db/changelog/db.changelog-master.yaml"] = "databaseChangeLog:\n" + "".join(
        f"  - include:\n      file: {name}\n      relativeToChangelogFile: true\n" for name, _ in changesets)
    write_files(tmp_path, files)
    project = discover(tmp_path / "db/changelog", repo_root=tmp_path)
    failed = [r for r in check_history(project, Settings()) if r.failed]
    assert failed == []


def test_preconditions_decide_on_the_database_as_liquibase_decides(pg_server: Database, tmp_path: Path) -> None:
    # onFail MARK_RAN: the changeset runs where its preconditions hold, else Liquibase marks it ran
    # (5knew/library-backend guards each createTable with `not tableExists`; haitaton-backend drops
    # a table only where it exists). HALT, the default, decides nothing: the changeset just runs.
    root = write_files(tmp_path / "repo", {"db/changelog/db.changelog-master.yaml": """databaseChangeLog:
  - changeSet:
      id: category
      author: admin
      preConditions:
        - onFail: MARK_RAN
        - not:
            - tableExists: { tableName: Category }
      changes:
        - createTable:
            tableName: category
            columns:
              - column: { name: id, type: bigint, constraints: { primaryKey: true } }
  - changeSet:
      id: drop-old
      author: admin
      preConditions:
        - onFail: MARK_RAN
          and:
            - tableExists: { tableName: old_polys }
            - columnExists: { tableName: old_polys, columnName: geom }
      changes:
        - dropTable: { tableName: old_polys }
  - include:
      file: guarded.sql
      relativeToChangelogFile: true
""", "db/changelog/guarded.sql": (
        "--liquibase formatted sql\n"
        "--changeset admin:count-check\n"
        "--preconditions onFail:CONTINUE\n"
        "--precondition-sql-check expectedResult:0 SELECT count(*) FROM category WHERE id < 0\n"
        "insert into category values (1);\n"
        "--rollback delete from category where id = 1;\n")})
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    found = discover(root, repo_root=root)
    category, drop_old, guarded = found.migrations
    assert category.precondition is not None and drop_old.precondition is not None and guarded.precondition is not None
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    cases = {(c.attrib["classname"], c.attrib["name"]): c for c in ET.parse(report).getroot().iter("testcase")}
    # The one failure is the lint's: the changelog drops a table, whether or not it runs here.
    assert code == 1 and [name for (family, name), case in cases.items() if case.find("failure") is not None] == [
        "db.changelog-master.yaml::drop-old::admin: MC001 drop-table"]
    assert cases[("migration_check.apply", "db.changelog-master.yaml::category::admin")].find("skipped") is None
    assert cases[("migration_check.apply", "guarded.sql::count-check::admin")].find("skipped") is None
    skipped = cases[("migration_check.apply", "db.changelog-master.yaml::drop-old::admin")].find("skipped")
    assert skipped is not None and skipped.attrib["message"] == (
        "its preconditions do not hold here: Liquibase marks it ran without running it (onFail: MARK_RAN)")


def test_load_data_from_a_csv_on_the_classpath(tmp_path: Path) -> None:
    # 5knew/library-backend: `file="classpath:db/data/categories.csv"` from a changelog under
    # src/main/resources/db/changelog.
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        f"{RESOURCES}/db/changelog/db.changelog-master.xml": (
            '<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'
            '  <changeSet id="002" author="admin">\n'
            '    <loadData file="classpath:db/data/categories.csv" tableName="category" separator=";">\n'
            '      <column name="id" type="NUMERIC"/>\n      <column header="secret" name="secret" type="skip"/>\n'
            "    </loadData>\n  </changeSet>\n</databaseChangeLog>\n"),
        f"{RESOURCES}/db/data/categories.csv": 'id;name;secret\n1;"Fiction; novels";x\n2;;y\n\n',
    })
    [load] = discover(tmp_path / RESOURCES / "db/changelog", repo_root=tmp_path).migrations
    assert load.up is not None and load.up.sql == (
        "INSERT INTO category (id, name) VALUES (1, 'Fiction; novels');\nINSERT INTO category (id, name) VALUES (2, NULL);")
    assert load.down is None  # Liquibase derives no rollback for loadData


def test_null_values_expression_indexes_and_row_count_preconditions(tmp_path: Path) -> None:
    # AAFC-BICoE/natural-history-collection-api: value="null", <column name="LOWER(name)"/>, and a
    # table dropped only where it is empty.
    write_files(tmp_path, {"changelog/db.changelog-master.xml": (
        '<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'
        '  <changeSet id="1" author="ada">\n'
        '    <update tableName="t"><column name="d" value="null"/></update>\n'
        '    <createIndex indexName="t_name" tableName="t" unique="true"><column name="LOWER(name)"/></createIndex>\n'
        "  </changeSet>\n"
        '  <changeSet id="2" author="ada">\n'
        '    <preConditions onFail="CONTINUE"><rowCount expectedRows="0" tableName="old"/></preConditions>\n'
        '    <dropTable tableName="old"/>\n'
        "  </changeSet>\n</databaseChangeLog>\n")})
    first, second = discover(tmp_path / "changelog", repo_root=tmp_path).migrations
    assert first.up is not None and first.up.sql == (
        "UPDATE t SET d = NULL;\nCREATE UNIQUE INDEX t_name ON t (LOWER(name));")
    assert second.precondition == "((SELECT count(*) FROM old) = 0)"


def test_the_changelog_spring_boot_is_told_to_run(tmp_path: Path) -> None:
    # `spring.liquibase.change-log` names a master the usual names do not find.
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        f"{RESOURCES}/application.yml": "spring:\n  liquibase:\n    change-log: classpath:db/changes/root.yaml\n",
        f"{RESOURCES}/db/changes/root.yaml": "databaseChangeLog:\n  - include:\n      file: db/changes/001.sql\n",
        f"{RESOURCES}/db/changes/001.sql": "--liquibase formatted sql\n--changeset ada:1\ncreate table t (id int);\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "liquibase" and found.reason.startswith("root.yaml and 1 changeset")
    assert [m.id for m in found.migrations] == ["001.sql::1::ada"]


def test_the_one_changelog_named_so_is_the_master_the_code_names(tmp_path: Path) -> None:
    # DIGI-UW/OpenELIS-Global-2 gives Liquibase `classpath:liquibase/base-changelog.xml` in Java; a
    # folder of its changesets, holding one SQL file, was taken for a numbered project instead.
    (tmp_path / ".git").mkdir()
    head = '<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'
    write_files(tmp_path, {
        f"{RESOURCES}/liquibase/base-changelog.xml": head + '  <include file="liquibase/3.5.x.x/base.xml"/>\n'
                                                      "</databaseChangeLog>\n",
        f"{RESOURCES}/liquibase/3.5.x.x/base.xml": head + '  <include file="liquibase/3.5.x.x/001-menu.xml"/>\n'
                                                    '  <include file="liquibase/3.5.x.x/002_sites.sql"/>\n'
                                                    "</databaseChangeLog>\n",
        f"{RESOURCES}/liquibase/3.5.x.x/001-menu.xml": head + '  <changeSet id="1" author="ada">\n'
                                                        "    <sql>create table menu (id int)</sql>\n  </changeSet>\n"
                                                        "</databaseChangeLog>\n",
        f"{RESOURCES}/liquibase/3.5.x.x/002_sites.sql": "--liquibase formatted sql\n--changeset ada:1\n"
                                                       "create table sites (id int);\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "liquibase" and found.reason.startswith("base-changelog.xml and 2 changesets")
    # Two changelogs named so: no guess.
    write_files(tmp_path, {f"{RESOURCES}/liquibase/other-changelog.xml": head + "</databaseChangeLog>\n"})
    assert master_changelog(tmp_path / RESOURCES / "liquibase") is None


def test_spring_boots_changelog_directory_and_a_primary_key_dropped_by_no_name(pg_server: Database,
                                                                              tmp_path: Path) -> None:
    # tolgee/tolgee-platform: the master is db/changelog/schema.xml (another module's
    # `spring.liquibase.change-log` names it); a generated dropPrimaryKey gives no name, and Liquibase
    # finds `task_keyPK` in information_schema (a `task_key_pkey` failed it); alterSequence is written.
    head = '<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'
    write_files(tmp_path, {
        f"backend/data/{RESOURCES}/db/changelog/schema.xml": head + (
            '  <changeSet author="jenik" id="1">\n    <createTable tableName="task_key">\n'
            '      <column name="key_id" type="BIGINT"><constraints nullable="false" primaryKey="true"'
            ' primaryKeyName="task_keyPK"/></column>\n'
            '      <column name="id" type="BIGINT"><constraints nullable="false"/></column>\n'
            "    </createTable>\n"
            '    <createSequence sequenceName="hibernate_sequence"/>\n  </changeSet>\n'
            '  <changeSet author="jenik" id="2">\n    <alterSequence incrementBy="1000"'
            ' sequenceName="hibernate_sequence"/>\n  </changeSet>\n'
            '  <changeSet author="jenik" id="3">\n    <dropPrimaryKey tableName="task_key"/>\n  </changeSet>\n'
            '  <changeSet author="jenik" id="4">\n    <addPrimaryKey columnNames="id" constraintName="task_keyPK"'
            ' tableName="task_key"/>\n  </changeSet>\n</databaseChangeLog>\n'),
        f"backend/data/{RESOURCES}/db/changelog/backfill.sql": "update task_key set id = key_id;\n",
    })
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "liquibase" and found.reason.startswith("schema.xml and 4 changesets")
    assert found.migrations[1].up is not None and found.migrations[1].up.sql == (
        "ALTER SEQUENCE hibernate_sequence INCREMENT BY 1000;")
    report = tmp_path / "r.xml"
    code = main(["check", str(tmp_path), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    failed = [c.get("name") for c in ET.parse(report).getroot().iter("testcase") if c.find("failure") is not None
              and c.get("classname") == "migration_check.apply"]
    assert failed == [] and code in (0, 1)


def test_contexts_the_project_runs_liquibase_with(tmp_path: Path, pg_server: Database,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # AAFC-BICoE/seqdb-api runs `schema-change, initial-data`: its `sample-data` changesets never run.
    from migration_check.discovery.liquibase_contexts import runs

    assert runs("a, b", frozenset({"b"})) and not runs("a and b", frozenset({"b"}))
    assert runs("!test", frozenset({"prod"})) and not runs("not prod", frozenset({"prod"}))
    assert runs("(a or b) and !c", frozenset({"b"})) and not runs("(a or b) and !c", frozenset({"b", "c"}))
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        f"{RESOURCES}/application.yml": "spring:\n  liquibase:\n    contexts: schema-change, initial-data\n",
        f"{RESOURCES}/db/changelog/db.changelog-master.xml": (
            '<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'
            '  <include file="db/changelog/schema.xml"/>\n'
            '  <include file="db/changelog/sample.xml" context="sample-data"/>\n</databaseChangeLog>\n'),
        f"{RESOURCES}/db/changelog/schema.xml": (
            '<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog" context="schema-change">\n'
            '  <changeSet id="1" author="ada"><sql>create table t (id int)</sql></changeSet>\n</databaseChangeLog>\n'),
        f"{RESOURCES}/db/changelog/sample.xml": (
            '<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'
            '  <changeSet id="2" author="ada"><sql>insert into t values (1)</sql></changeSet>\n</databaseChangeLog>\n'),
    })
    schema, sample = discover(tmp_path / RESOURCES / "db/changelog", repo_root=tmp_path).migrations
    assert schema.skip_reason is None
    assert sample.skip_reason == ("Liquibase does not run it here: its context (sample-data) is not among the project's"
                                  " (spring.liquibase.contexts: initial-data, schema-change)")
    # Left out by Liquibase as the project runs it, it is no code the replay lacks.
    main(["check", str(tmp_path / RESOURCES / "db/changelog"), "--database-url", pg_server.conninfo])
    assert "the replay ran 1 of 2 migrations (1 skipped; each skipped case says why)" in capsys.readouterr().out


@pytest.mark.parametrize(("url", "refused"), [
    ("jdbc:mysql://localhost:3306/shop?useUnicode=true", True),
    ("jdbc:postgresql://localhost:5432/shop", False),
    ("jdbc:h2:mem:testdb", False),  # a development default beside a PostgreSQL profile
])
def test_a_changelog_the_project_runs_on_another_database(tmp_path: Path, url: str, refused: bool) -> None:
    # nick-bi/spring-boot's liquibase-demo runs on MySQL: its changesets fail as MySQL SQL here.
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        f"{RESOURCES}/application.properties": f"spring.application.name=shop\nspring.datasource.url={url}\n",
        f"{RESOURCES}/db/changelog/db.changelog-master.yaml": "databaseChangeLog:\n  - include:\n      file: db/changelog/1.sql\n",
        f"{RESOURCES}/db/changelog/1.sql": "--liquibase formatted sql\n--changeset ada:1\ncreate table t (id int);\n",
    })
    if not refused:
        assert discover(tmp_path, repo_root=tmp_path).format == "liquibase"
        return
    with pytest.raises(FileError) as error:
        discover(tmp_path, repo_root=tmp_path)
    assert error.value.path.name == "application.properties" and error.value.line == 2
    assert "runs its Liquibase changelog on MySQL" in str(error.value)


def test_the_label_filter_the_project_runs_liquibase_with(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write_files(tmp_path, {
        "liquibase.properties": "changeLogFile=db/changelog/db.changelog-master.yaml\nlabels=!demo\n",
        "db/changelog/db.changelog-master.yaml": "databaseChangeLog:\n  - include:\n      file: db/changelog/1.sql\n",
        "db/changelog/1.sql": ("--liquibase formatted sql\n--changeset ada:schema labels:core\ncreate table t (id int);\n"
                               "--changeset ada:demo-rows labels:demo,seed\ninsert into t values (1);\n"
                               "--changeset ada:unlabelled\ncreate index t_id on t (id);\n"),
    })
    schema, demo, unlabelled = discover(tmp_path / "db/changelog", repo_root=tmp_path).migrations
    assert schema.skip_reason is None and unlabelled.skip_reason is None  # no labels: always run
    assert demo.skip_reason == ("Liquibase does not run it here: its labels (demo, seed) do not pass the project's filter"
                                " (liquibase.properties: !demo)")
