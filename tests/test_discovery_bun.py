"""uptrace/bun's migrate: its file names and their order, `--bun:split` pieces each sent as one query
and `.tx.` files in a transaction, what it refuses, its Go migrations, and golang-migrate's files
left to golang-migrate where no Go code imports the package."""

from __future__ import annotations

from pathlib import Path

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import discover
from migration_check.model import Transaction

GO_MOD = "module example.com/app\n\ngo 1.22\n\nrequire github.com/uptrace/bun v1.2.5\n"
EMBED = ('package migrations\n\nimport (\n\t"embed"\n\n\t"github.com/uptrace/bun/migrate"\n)\n\n'
         "var Migrations = migrate.NewMigrations()\n\n//go:embed *.sql\nvar sqlMigrations embed.FS\n")


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_files(tmp_path, {"go.mod": GO_MOD, "migrations/main.go": EMBED,
                                  **{f"migrations/{name}": text for name, text in files.items()}})


def test_files_pieces_and_transactions(tmp_path: Path) -> None:
    found = discover(project(tmp_path, {
        "9_users.up.sql": "create table users (id int);\n",
        "10_index.up.sql": "create index concurrently a on users (id);\n--bun:split\ncreate index concurrently b on users (id);\n",
        "10_index.down.sql": "drop index a;\ndrop index b;\n",
        "11_backfill.tx.up.sql": "alter table users add column n int;\nupdate users set n = 1;\n",
        "12_seed.go": "package migrations\n\nfunc init() {\n\tMigrations.MustRegister(up, down)\n}\n",
    }), repo_root=tmp_path)
    assert found.format == "bun-migrate" and "main.go imports it" in found.reason
    # by name as text: 10 before 9
    assert [(m.id, m.up.transaction if m.up else None) for m in found.migrations] == [
        ("10_index", Transaction.NONE), ("11_backfill", Transaction.WRAPPED), ("12_seed", None),
        ("9_users", Transaction.ONE_QUERY)]
    assert found.migrations[2].skip_reason is not None and "Go migration" in found.migrations[2].skip_reason
    assert found.stray_files == []  # (main.go is the code that embeds them)


def test_what_bun_refuses(tmp_path: Path) -> None:
    found = discover(project(tmp_path, {
        "20240101000000_Users.up.sql": "create table users (id int);\n",  # an upper-case comment
        "20240102000000_posts.up.sql": "--bun:nosplit\ncreate table posts (id int);\n",
    }), repo_root=tmp_path)
    [stray] = found.stray_files
    assert stray.refused and "unsupported migration name format '20240101000000_Users.up.sql'" in stray.reason
    [refusal] = found.refusals
    assert (refusal.path.name, refusal.line) == ("20240102000000_posts.up.sql", 1)
    assert "unknown directive 'nosplit'" in refusal.message


def test_without_the_import_the_files_are_golang_migrates(tmp_path: Path) -> None:
    write_files(tmp_path, {"migrations/20240101000000_users.up.sql": "create table users (id int);\n",
                           "migrations/20240101000000_users.down.sql": "drop table users;\n"})
    assert discover(tmp_path, repo_root=tmp_path).format == "golang-migrate"


def test_concurrently_alone_in_its_piece_runs_outside_a_transaction(tmp_path: Path, pg_server) -> None:
    # Sent as one query (golang-migrate's reading of the same file), the two CREATE INDEX
    # CONCURRENTLY fail: bun sends each piece on its own.
    root = project(tmp_path / "repo", {
        "20240101000000_users.up.sql": "create table users (id int, email text);\n",
        "20240101000000_users.down.sql": "drop table users;\n",
        "20240102000000_index.up.sql": ("create index concurrently users_id on users (id);\n\n--bun:split\n\n"
                                         "create index concurrently users_email on users (email);\n"),
        "20240102000000_index.down.sql": "drop index users_email;\ndrop index users_id;\n",
    })
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "-q"]) == 0
