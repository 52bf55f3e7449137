"""Graphile Migrate's committed migrations, read as `graphile-migrate migrate` reads them
(graphile/migrate src/migration.ts): headers, the chain of hashes, placeholders, the actions a new
database gets. The hash was checked against committed migrations graphile-migrate wrote
(graphile/starter, regen-network/regen-server's 53, zarybnicky/Sirimbo's 119, sushiibot/sushii-db's 28)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from migration_check.cli import main
from migration_check.discovery import discover
from migration_check.discovery.graphile_migrate import calculate_hash
from migration_check.history import static_checks
from migration_check.model import Status, Transaction
from migration_check.settings import Settings


def committed(bodies: dict[str, str], allow: tuple[str, ...] = ()) -> dict[str, str]:
    """The files `graphile-migrate commit` writes for `bodies` (name -> body), chained by hash."""
    files, previous = {}, None
    for name, body in bodies.items():
        body = body.strip() + "\n"
        digest = calculate_hash(body, previous)
        extra = "--! AllowInvalidHash\n" if name in allow else ""
        files[f"migrations/committed/{name}"] = f"{extra}--! Previous: {previous or '-'}\n--! Hash: {digest}\n\n{body}"
        previous = digest
    return files


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / ".git").mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():  # as written: headers are line-exact
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def history(root: Path) -> dict[str, tuple[Status, int | None, str]]:
    found = discover(root, repo_root=root)
    return {r.subject: (r.status, r.line, r.message) for r in static_checks(found, Settings()) if r.check == "history"}


def test_the_hash_is_graphile_migrates() -> None:
    # sha1 of the previous hash, a new line and the trimmed body, trimmed, then a new line.
    first = calculate_hash("  select 1;  \n\n", None)
    assert first == "sha1:005c6eb7364156e6b0d158d8b2767a24f1ce6611"  # sha1 of "select 1;\n"
    # sha1 of "sha1:005c...\nselect 2;\n"
    assert calculate_hash("select 2;\n", first) == "sha1:25e74b3f7d5496bbcd41cc6010dc1847e9d9c230"


def test_committed_migrations_in_order_with_their_transactions_and_placeholders(tmp_path: Path) -> None:
    root = project(tmp_path, {
        ".gmrc": '/* JSON5 */ {\n  // a comment\n  "placeholders": {":APP": "app_public", ":VISITOR": "!ENV",},\n}\n',
        **committed({
            "000001.sql": "create schema :APP;\ngrant usage on schema :APP to :DATABASE_OWNER;\n",
            "000002-add-index.sql": "--! no-transaction\ncreate index concurrently i on :APP.t (id);\n",
            "000010.sql": "grant select on :APP.t to :VISITOR;\n",
        }),
        "migrations/current.sql": "-- Enter migration here\n",
        "migrations/current/1-wip.sql": "select 1;\n",
        "migrations/committed/notes.md": "notes\n",
    })
    found = discover(root, repo_root=root)
    assert found.format == "graphile-migrate" and found.directory == root / "migrations/committed"
    assert [(m.id, m.version, m.name) for m in found.migrations] == [
        ("000001", "000001", ""), ("000002-add-index", "000002", "add-index"), ("000010", "000010", "")]
    first, index, grant = found.migrations
    assert first.up is not None and first.up.sql.startswith("create schema app_public;\ngrant usage on schema app_public"
                                                             " to postgres;")
    assert first.up.first_line == 4 and first.up.transaction is Transaction.WRAPPED and first.up.sent_as_one_query
    assert index.up is not None and index.up.transaction is Transaction.ONE_QUERY
    assert grant.skip_reason == ("line 4 uses the placeholder :VISITOR, which has no value here: graphile-migrate"
                                 " takes it from the environment variable VISITOR (\"!ENV\" in .gmrc); give it with"
                                 " --var VISITOR=VALUE")
    again = discover(root, repo_root=root, values={"VISITOR": "web_visitor"}).migrations[2]
    assert again.skip_reason is None and again.up is not None and "to web_visitor;" in again.up.sql
    assert [s.path.name for s in found.stray_files] == ["notes.md"]
    assert all(case[0] is Status.PASSED for name, case in history(root).items() if name != "against the base branch")


def test_an_edited_migration_and_a_broken_chain_fail_as_graphile_migrate_stops(tmp_path: Path) -> None:
    files = committed({"000001.sql": "select 1;\n", "000002.sql": "select 2;\n", "000003.sql": "select 3;\n"})
    files["migrations/committed/000002.sql"] = files["migrations/committed/000002.sql"].replace("select 2;", "select 22;")
    root = project(tmp_path, files)
    status, line, message = history(root)["000002.sql"]
    assert (status, line) == (Status.FAILED, 2)
    assert message.startswith("000002.sql: its body's hash is sha1:")
    assert "the file was edited after `graphile-migrate commit`" in message
    assert "000003.sql" not in history(root)  # its Previous is 000002's stated hash: nothing refused
    # A migration taken out breaks the chain at the next one.
    (root / "migrations/committed/000002.sql").unlink()
    status, line, message = history(root)["000003.sql"]
    assert (status, line) == (Status.FAILED, 1) and "the chain is broken" in message


def test_headers_graphile_migrate_refuses(tmp_path: Path) -> None:
    files = committed({"000001.sql": "select 1;\n", "000002.sql": "select 2;\n"}, allow=("000002.sql",))
    files["migrations/committed/000001.sql"] = files["migrations/committed/000001.sql"].replace("\n\nselect", "\nselect")
    root = project(tmp_path, files)
    cases = history(root)
    assert cases["000001.sql"][:2] == (Status.FAILED, 3) and "no blank line follows its headers" in cases["000001.sql"][2]
    # AllowInvalidHash on a hash that matches stops graphile-migrate too.
    assert cases["000002.sql"][:2] == (Status.FAILED, 1) and "says AllowInvalidHash but its hash matches" in cases["000002.sql"][2]


def test_crlf_line_endings_are_named(tmp_path: Path) -> None:
    files = committed({"000001.sql": "select 1;\n"})
    files["migrations/committed/000001.sql"] = files["migrations/committed/000001.sql"].replace("\n", "\r\n")
    root = project(tmp_path, files)
    (root / "migrations/committed/000001.sql").write_bytes(files["migrations/committed/000001.sql"].encode())
    message = history(root)["000001.sql"][2]
    assert "line endings are CRLF" in message


def test_the_settings_file_names_the_folder_and_the_setup(tmp_path: Path) -> None:
    root = project(tmp_path, {
        ".gmrc": ('{\n  "migrationsFolder": "./db/migrations",\n  "pgSettings": {"search_path": "app,public"},\n'
                  '  "afterReset": ["!roles.sql", {"_": "sql", "file": "shadow.sql", "shadow": true},'
                  ' {"_": "command", "command": "make worker"}],\n  "beforeAllMigrations": ["before.sql"],\n}\n'),
        "db/migrations/roles.sql": "create schema if not exists app;\n",
        "db/migrations/before.sql": "select 1;\n",
        **{path.replace("migrations/", "db/migrations/", 1): text
           for path, text in committed({"000001.sql": "create table t (id int);\n"}).items()},
    })
    found = discover(root, repo_root=root)
    assert found.directory == root / "db/migrations/committed"
    assert [s.path.name for s in found.setup] == ["roles.sql", "before.sql", ".gmrc"]
    assert "search_path" in found.setup[-1].sql
    assert found.setup_reason == ("Graphile Migrate's actions for a new database run first (roles.sql, before.sql); the"
                                  " pgSettings of .gmrc start every session; not run: afterReset's command `make worker`")


def test_a_replay_with_the_settings_of_the_project(tmp_path: Path, pg_server) -> None:
    # pgSettings' search_path puts app first: the unqualified table lands there, as graphile-migrate
    # runs it; the second migration reads it there.
    root = project(tmp_path / "repo", {
        ".gmrc": '{ "pgSettings": { "search_path": "app,public" }, "afterReset": ["afterReset.sql"] }\n',
        "migrations/afterReset.sql": "create schema app;\n",
        **committed({"000001.sql": "create table customers (id int primary key);\n",
                     "000002.sql": "insert into app.customers values (1);\nalter table customers add column note text;\n"}),
    })
    report = tmp_path / "r.xml"
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"]) == 0
    applied = [c for c in ET.parse(report).getroot().iter("testcase") if c.get("classname") == "migration_check.apply"]
    assert [(c.get("name"), c.find("failure") is None and c.find("skipped") is None) for c in applied] == [
        ("000001", True), ("000002", True)]


def test_an_action_needing_an_extension_this_server_lacks_says_where_to_check(tmp_path: Path, pg_server, capsys) -> None:
    # regen-network/regen-server's afterReset creates postgis: the server's lack, not the project's.
    root = project(tmp_path / "repo", {
        ".gmrc": '{ "afterReset": ["!initial_schema.sql"] }\n',
        "migrations/initial_schema.sql": "create extension if not exists no_such_extension_here;\n",
        **committed({"000001.sql": "create table t (id int);\n"}),
    })
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "-q"]) == 2
    captured = capsys.readouterr()
    error = captured.out + captured.err
    assert ('error: setup script migrations/initial_schema.sql:1:1: ERROR 0A000: extension "no_such_extension_here" is'
            " not available (this server does not have it: check on one that does, `--pg-bindir DIR`") in error


def test_settings_in_code_are_said_to_be_left_unread(tmp_path: Path) -> None:
    root = project(tmp_path, {".gmrc.js": "module.exports = { placeholders: { ':APP': process.env.APP } };\n",
                              **committed({"000001.sql": "create table t (id int);\n"})})
    found = discover(root, repo_root=root)
    assert found.setup_reason == "not run: .gmrc.js (code: its settings are not read, the defaults are used)"


def test_every_placeholder_without_a_value_is_named_at_once(tmp_path: Path) -> None:
    # BowlingX/ra-postgraphile: :DATABASE_VISITOR and :SYSTEM_ROLE, both from the environment.
    root = project(tmp_path, {
        ".gmrc": '{ "placeholders": { ":DATABASE_VISITOR": "!ENV", ":SYSTEM_ROLE": "!ENV" } }\n',
        **committed({"000001.sql": "grant usage on schema public to :DATABASE_VISITOR;\n"
                                   "grant all on schema public to :SYSTEM_ROLE, :DATABASE_VISITOR;\n"}),
    })
    [migration] = discover(root, repo_root=root).migrations
    assert migration.skip_reason == (
        "it uses placeholders that have no value here, :DATABASE_VISITOR (line 4), :SYSTEM_ROLE (line 5):"
        " graphile-migrate takes them from the environment variable DATABASE_VISITOR (\"!ENV\" in .gmrc); the"
        " environment variable SYSTEM_ROLE (\"!ENV\" in .gmrc); give them with --var DATABASE_VISITOR=VALUE"
        " --var SYSTEM_ROLE=VALUE")
