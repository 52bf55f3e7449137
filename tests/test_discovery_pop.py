"""gobuffalo/pop and Ory's popx (ory/hydra, kratos, keto): one file per database, the one for
PostgreSQL chosen over the one for every database, the others' left to them. Found on ory/hydra:
its 1,223 files were read as golang-migrate's, every `.mysql.`, `.sqlite3.` and `.cockroach.` file a
migration of its own and every shared down an orphan (1,440 failures; 132 now, each a true one)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import discover
from migration_check.model import Transaction
from migration_check.servers.base import Database
from migration_check.sql import split_script
from test_discovery_golang_migrate import repository


def test_the_file_for_postgres_wins_and_the_other_databases_files_are_theirs(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "migrations/20190100000001000000_client.up.sql": "CREATE TABLE client (id INT AUTO_INCREMENT);\n",
        "migrations/20190100000001000000_client.postgres.up.sql": "CREATE TABLE client (id serial);\n",
        "migrations/20190100000001000000_client.mysql.up.sql": "CREATE TABLE client (id INT AUTO_INCREMENT);\n",
        "migrations/20190100000001000000_client.sqlite3.down.sql": "DROP TABLE client;\n",
        "migrations/20190100000001000000_client.down.sql": "DROP TABLE client;\n",
        "migrations/20190100000002000000_index.postgres.autocommit.up.sql": "CREATE INDEX CONCURRENTLY i ON client (id);\n",
        "migrations/20190100000002000000_index.autocommit.down.sql": "DROP INDEX CONCURRENTLY i;\n",
        "migrations/201901000000_legacy.cockroachdb.up.sql": "select 1;\n",
        "migrations/20190100000003000000_other.oracle.up.sql": "select 1 from dual;\n",
    })
    found = discover(tmp_path / "migrations", repo_root=tmp_path)
    assert found.format == "pop"
    assert found.reason.endswith("for cockroachdb, mysql, postgres, sqlite3")
    client, index = found.migrations  # versions compare as text; the legacy one is CockroachDB's
    assert client.id == "20190100000001000000_client" and client.up is not None and client.down is not None
    assert client.up.path.name == "20190100000001000000_client.postgres.up.sql"
    assert client.down.path.name == "20190100000001000000_client.down.sql"
    assert client.up.transaction is Transaction.WRAPPED and client.up.sent_as_one_query
    assert index.up is not None and index.down is not None
    assert index.up.transaction is Transaction.ONE_QUERY and index.down.transaction is Transaction.ONE_QUERY
    assert [(s.path.name, s.refused) for s in found.stray_files] == [("20190100000003000000_other.oracle.up.sql", False)]


def test_without_a_database_in_any_name_it_is_pops_where_the_module_requires_pop(tmp_path: Path) -> None:
    pop = repository(tmp_path / "pop", {"go.mod": "module x\n\nrequire github.com/ory/pop/v6 v6.4.2\n",
                                        "migrations/20210710035447_users.up.sql": "create table users (id int);\n"})
    assert discover(pop / "migrations", repo_root=pop).format == "pop"
    plain = repository(tmp_path / "plain", {"go.mod": "module x\n\nrequire github.com/golang-migrate/migrate/v4 v4.17.0\n",
                                            "migrations/20210710035447_users.up.sql": "create table users (id int);\n"})
    assert discover(plain / "migrations", repo_root=plain).format == "golang-migrate"
    # pocket-id: golang-migrate required, pop and ory/x only as a dependency's (`// indirect`).
    indirect = repository(tmp_path / "indirect", {
        "go.mod": "module x\n\nrequire (\n\tgithub.com/golang-migrate/migrate/v4 v4.19.1\n)\n\nrequire (\n"
                  "\tgithub.com/ory/pop/v6 v6.4.1 // indirect\n\tgithub.com/ory/x v0.0.729 // indirect\n)\n",
        "migrations/20210710035447_users.up.sql": "create table users (id int);\n"})
    assert discover(indirect / "migrations", repo_root=indirect).format == "golang-migrate"
    # A dot in a golang-migrate name is no database.
    dotted = repository(tmp_path / "dotted", {"migrations/1_init.v2.up.sql": "create table users (id int);\n"})
    assert discover(dotted / "migrations", repo_root=dotted).format == "golang-migrate"


def test_the_parts_of_a_split_migration_are_replayed_as_one(tmp_path: Path) -> None:
    # ory/kratos: popx's tooling split 20191100000001_identities by statement, ups and downs numbered
    # apart (the down of part 2 drops the table part 3 creates): judged file by file, 280 rollbacks
    # "failed"; as popx's legacy version groups them (the first 14 digits and the name), 40 do.
    write_files(tmp_path, {
        "migrations/20191100000001000000_identities.postgres.up.sql": "CREATE TABLE identities (id int PRIMARY KEY);\n",
        "migrations/20191100000001000000_identities.postgres.down.sql": "DROP TABLE identities;\n",
        "migrations/20191100000001000001_identities.postgres.up.sql": "CREATE TABLE credentials (id int PRIMARY KEY,\n"
                                                                      "  identity_id int REFERENCES identities);\n",
        "migrations/20191100000001000001_identities.postgres.down.sql": "DROP TABLE credentials;\n",
        "migrations/20191100000001000002_identities.postgres.up.sql": "CREATE INDEX credentials_identity ON credentials (identity_id);\n",
        "migrations/20191100000001000002_identities.postgres.down.sql": "",
        "migrations/20191100000002000000_requests.postgres.up.sql": "CREATE TABLE requests (id int);\n",
        "migrations/20191100000002000000_requests.postgres.down.sql": "DROP TABLE requests;\n",
    })
    identities, requests = discover(tmp_path / "migrations", repo_root=tmp_path).migrations
    assert identities.id == "20191100000001_identities" and requests.id == "20191100000002000000_requests"
    assert identities.up is not None and identities.down is not None
    assert [(s.path.name, s.line) for s in split_script(identities.up)] == [
        ("20191100000001000000_identities.postgres.up.sql", 1), ("20191100000001000001_identities.postgres.up.sql", 1),
        ("20191100000001000002_identities.postgres.up.sql", 1)]
    # popx runs the downs newest first: the parts' downs in that order.
    assert [s.sql for s in split_script(identities.down)] == ["DROP TABLE credentials", "DROP TABLE identities"]
    assert len(identities.files) == 6


def test_a_split_migration_is_judged_as_one_with_its_parts_files_and_lines(pg_server: Database, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write_files(root, {
        "migrations/20240101000000000000_base.postgres.up.sql": "create table t (id int primary key, c text);\n",
        "migrations/20240101000000000000_base.postgres.down.sql": "drop table t;\n",
        "migrations/20240102000000000000_drop.postgres.up.sql": "select 1;\n",
        "migrations/20240102000000000000_drop.postgres.down.sql": "alter table t add column c text;\n",
        # A confirmation in a part's file confirms that part's statement.
        "migrations/20240102000000000001_drop.postgres.up.sql": (
            '-- migration-check: allow drop-column,data-loss "nobody reads c since 2023"\nalter table t drop column c;\n'),
        "migrations/20240102000000000001_drop.postgres.down.sql": "",
        "migrations/20240103000000000000_index.postgres.up.sql": "create index t_id on t (id);\n",
        "migrations/20240103000000000000_index.postgres.down.sql": "",
        "migrations/20240103000000000001_index.postgres.up.sql": "comment on table t is 'indexed';\n",
        "migrations/20240103000000000001_index.postgres.down.sql": "-- nothing\n",
    })
    report = tmp_path / "r.xml"
    code = main(["check", str(root / "migrations"), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    cases = {(c.attrib["classname"].split(".")[-1], c.attrib["name"]): c for c in ET.parse(report).getroot().iter("testcase")}
    lint = cases[("lint", "20240102000000_drop: MC002 drop-column")]
    assert lint.find("failure") is None and "confirmed: nobody reads c since 2023" in (lint.findtext("system-out") or "")
    assert lint.attrib["file"] == "20240102000000000001_drop.postgres.up.sql" and lint.attrib["line"] == "2"
    assert cases[("data", "20240102000000_drop")].find("failure") is None
    failure = cases[("roundtrip", "20240103000000_index")].find("failure")
    assert code == 1 and failure is not None
    assert ("(the 2 files of its rollback, 20240103000000000001_index.postgres.down.sql to"
            " 20240103000000000000_index.postgres.down.sql, hold no statement)") in failure.attrib["message"]
    # Each statement said with its part's file.
    assert "created by the up (line 1 of 20240103000000000000_index.postgres.up.sql)" in failure.attrib["message"]


def test_a_template_in_a_rollback_alone_skips_the_rollback_alone(tmp_path: Path) -> None:
    # As for gobuffalo/pop's files named as golang-migrate's: the up is still replayed.
    root = repository(tmp_path, {
        "go.mod": "module x\n\nrequire github.com/ory/pop/v6 v6.4.2\n",
        "migrations/20210710035447_users.up.sql": "create table users (id int);\n",
        "migrations/20210710035447_users.down.sql": 'drop table {{ index .Options "Namespace" }}.users;\n',
    })
    [migration] = discover(root / "migrations", repo_root=root).migrations
    assert migration.skip_reason is None
    assert migration.down_skip_reason is not None and "line 1 looks up the option Namespace" in migration.down_skip_reason


def test_a_fizz_file_fizz_refuses_is_a_refusal_at_its_line_and_the_others_are_still_judged(tmp_path: Path) -> None:
    # fizz stops at a primary key of a type it cannot make one of; the run used to stop there.
    root = repository(tmp_path, {
        "go.mod": "module x\n\nrequire github.com/gobuffalo/pop/v6 v6.1.1\n",
        "migrations/20220101000000_a.up.fizz": 'create_table("a") {\n  t.Column("id", "text", {primary: true})\n}\n',
        "migrations/20220101000000_a.down.fizz": 'drop_table("a")\n',
        "migrations/20220102000000_b.up.fizz": 'create_table("b") {\n  t.Column("id", "uuid", {primary: true})\n}\n',
        "migrations/20220102000000_b.down.fizz": 'drop_table("b")\n',
    })
    found = discover(root / "migrations", repo_root=root)
    [refusal] = found.refusals
    assert (refusal.path.name, refusal.line, refusal.message) == (
        "20220101000000_a.up.fizz", 1, "fizz refuses it: can not use text as a primary key")
    refused, other = found.migrations
    assert refused.up is None and refused.refused
    assert refused.skip_reason == "fizz refuses the file (line 1): can not use text as a primary key"
    assert other.up is not None and other.skip_reason is None
