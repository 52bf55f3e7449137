"""gobuffalo/pop and Ory's popx (ory/hydra, kratos, keto): one file per database, the one for
PostgreSQL chosen over the one for every database, the others' left to them. Found on ory/hydra:
its 1,223 files were read as golang-migrate's, every `.mysql.`, `.sqlite3.` and `.cockroach.` file a
migration of its own and every shared down an orphan (1,440 failures; 132 now, each a true one)."""

from __future__ import annotations

from pathlib import Path

from conftest import write_files
from migration_check.discovery import discover
from migration_check.model import Transaction
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
    assert found.reason.endswith("for cockroachdb, mysql, oracle, postgres, sqlite3")
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
