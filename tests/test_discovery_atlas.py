"""Atlas's migration directories: `*.sql` files with their `atlas.sum`, read and checked as
`atlas migrate apply` reads them (ariga/atlas sql/migrate). The sum's hashes were checked against
atlas.sum files Atlas itself wrote, in seven public repositories (basemind-ai/gateway, hatchet's
sql/migrations before v1, asteroid-protocol's two directories, datumforge/datum, and the sums Atlas
keeps beside golang-migrate and goose files: initia-labs/core-indexer, infratographer)."""

from __future__ import annotations

import contextlib
import io
import subprocess
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import atlas_sum, discover, layout_named
from migration_check.discovery.atlas import delimited, file_directives
from migration_check.errors import UsageError
from migration_check.history import static_checks
from migration_check.model import Status, Transaction
from migration_check.scaffold import new_migration
from migration_check.settings import Settings

NOW = datetime(2025, 9, 6, 12, 0, 0, tzinfo=UTC)


def hashed(directory: Path) -> Path:
    """Write the directory's atlas.sum as `atlas migrate hash` does."""
    (directory / "atlas.sum").write_text(atlas_sum.rendered(atlas_sum.computed(atlas_sum.sql_files(directory))))
    return directory


def project_of(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    root = write_files(tmp_path, files)
    hashed(root / "migrations")
    return root


def sum_case(root: Path) -> tuple[Status, int | None, str]:
    project = discover(root, repo_root=root)
    [case] = [r for r in static_checks(project, Settings()) if r.check == "history" and r.subject == "atlas.sum"]
    return case.status, case.line, case.message


def test_a_known_directory_hashes_as_atlas_hashes_it(tmp_path: Path) -> None:
    # A running sha256 over each name then its bytes; the first line sums the entries.
    directory = write_files(tmp_path, {"1_a.sql": "CREATE TABLE a (id int);\n", "2_b.sql": "CREATE TABLE b (id int);\n"})
    assert atlas_sum.rendered(atlas_sum.computed(atlas_sum.sql_files(directory))) == (
        "h1:suWOgEl4b8+ZGnGkyRcy2AueRtZKAkT6PdNTDiVWU88=\n"
        "1_a.sql h1:e72Wd39UNYY4sGrVkNYkCs4GRrWBQ0ASXh73rS+WpU4=\n"  # sha256 of "1_a.sql" and its text
        "2_b.sql h1:LYBzMWp8I1J0wb5WVXG/rhd1DXb0uUx/zp1eAIICVlY=\n")  # ... and then "2_b.sql" and its


def test_files_versions_order_and_transactions_as_atlas_reads_them(tmp_path: Path) -> None:
    root = project_of(tmp_path, {
        "migrations/20240101000000_init.sql": "-- Create \"users\" table\nCREATE TABLE users (id int);\n",
        "migrations/20240102000000.sql": "CREATE TABLE plain (id int);\n",
        "migrations/20240103000000_index.sql": "-- atlas:txmode none\n\nCREATE INDEX CONCURRENTLY u ON users (id);\n",
        # No blank line: Atlas reads the comment as the statement's, not a file directive.
        "migrations/20240104000000_glued.sql": "-- atlas:txmode none\nCREATE INDEX CONCURRENTLY p ON plain (id);\n",
        "migrations/README.md": "not a migration\n",
        "migrations/nested/20240105000000_below.sql": "SELECT 1;\n",
    })
    project = discover(root, repo_root=root)
    assert project.format == "atlas" and project.directory == root / "migrations"
    assert "4 files named <version>_<description>.sql beside atlas.sum" in project.reason
    assert [(m.version, m.name, m.up.transaction if m.up else None) for m in project.migrations] == [
        ("20240101000000", "init", Transaction.WRAPPED), ("20240102000000", "", Transaction.WRAPPED),
        ("20240103000000", "index", Transaction.NONE), ("20240104000000", "glued", Transaction.WRAPPED)]
    assert project.migrations[1].id == "20240102000000"
    assert project.rollback_policy.value == "absent"
    assert sum_case(root)[0] is Status.PASSED


def test_files_run_in_name_order_as_text(tmp_path: Path) -> None:
    root = project_of(tmp_path, {"migrations/9_a.sql": "SELECT 1;\n", "migrations/10_b.sql": "SELECT 1;\n"})
    assert [m.id for m in discover(root, repo_root=root).migrations] == ["10_b", "9_a"]


def test_file_directives_need_the_blank_line_after_them() -> None:
    assert file_directives("-- atlas:txmode none\n\nSELECT 1;") == {"txmode": ["none"]}
    assert file_directives("# atlas:txmode none\n-- atlas:checkpoint v1\n  \nSELECT 1;") == {
        "txmode": ["none"], "checkpoint": ["v1"]}
    assert file_directives("-- atlas:txmode none\nSELECT 1;") == {}
    assert file_directives("-- atlas:checkpoint") == {"checkpoint": [""]}
    assert file_directives("SELECT 1;\n-- atlas:txmode none\n\n") == {}


def test_a_txmode_atlas_rejects_is_a_history_failure_at_its_line(tmp_path: Path) -> None:
    root = project_of(tmp_path, {
        "migrations/1_a.sql": "-- a comment\n-- atlas:txmode all\n\nSELECT 1;\n",
        "migrations/2_b.sql": "-- atlas:txmode none\n-- atlas:txmode file\n\nSELECT 1;\n",
    })
    project = discover(root, repo_root=root)
    cases = {r.subject: r for r in static_checks(project, Settings()) if r.check == "history"}
    assert cases["1_a.sql"].status is Status.FAILED and cases["1_a.sql"].line == 2
    assert "txmode all is not allowed in a file directive" in cases["1_a.sql"].message
    assert "sets txmode 2 times" in cases["2_b.sql"].message
    assert cases["atlas.sum"].status is Status.PASSED


def test_a_new_database_starts_from_the_last_checkpoint(tmp_path: Path) -> None:
    root = project_of(tmp_path, {
        "migrations/1_a.sql": "CREATE TABLE a (id int);\n",
        "migrations/2_ck.sql": "-- atlas:checkpoint\n\nCREATE TABLE a (id int);\n",
        "migrations/3_b.sql": "CREATE TABLE b (id int);\n",
        "migrations/4_ck.sql": "-- atlas:checkpoint v2\n\nCREATE TABLE a (id int);\nCREATE TABLE b (id int);\n",
        "migrations/5_c.sql": "CREATE TABLE c (id int);\n",
    })
    migrations = discover(root, repo_root=root).migrations
    assert [(m.id, m.baseline, bool(m.skip_reason)) for m in migrations] == [
        ("1_a", False, True), ("2_ck", True, True), ("3_b", False, True), ("4_ck", True, False), ("5_c", False, False)]
    assert "before the checkpoint 4_ck.sql: Atlas starts a new database from it" in (migrations[0].skip_reason or "")


def test_a_custom_delimiter_splits_outside_strings_and_comments() -> None:
    text = ("-- atlas:delimiter //\nCREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'a//b; é' $$\n//\n"
            "/* not // here */ CREATE TABLE t (id int)//\n\n")
    statements = delimited(text)
    assert statements is not None
    assert [s for _, s in statements] == [
        "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT 'a//b; é' $$", "/* not // here */ CREATE TABLE t (id int)"]
    assert all(text[offset:].startswith(statement) for offset, statement in statements)
    assert [s for _, s in delimited("-- atlas:delimiter \\n\\n\nSELECT 1;\nSELECT 2;\n\nSELECT 3;\n") or ()] == [
        "SELECT 1;\nSELECT 2;", "SELECT 3;"]
    assert delimited("SELECT 1;\n-- atlas:delimiter //\n") is None
    assert delimited("--  atlas:delimiter //\nSELECT 1//") is None  # the prefix must be `-- ` exactly


def test_an_edited_file_fails_at_its_line_of_the_sum(tmp_path: Path) -> None:
    root = project_of(tmp_path, {"migrations/1_a.sql": "SELECT 1;\n", "migrations/2_b.sql": "SELECT 2;\n",
                                 "migrations/3_c.sql": "SELECT 3;\n"})
    (root / "migrations/2_b.sql").write_text("SELECT 22;\n")
    status, line, message = sum_case(root)
    assert (status, line) == (Status.FAILED, 3)
    assert message.startswith("2_b.sql was edited after atlas.sum was written: `atlas migrate apply` refuses the"
                              " directory (checksum mismatch)")
    assert "3_c.sql" not in message  # the running hash changes every later line: only the edit is told


def test_files_added_and_removed_since_the_sum_are_each_named(tmp_path: Path) -> None:
    root = project_of(tmp_path, {"migrations/1_a.sql": "SELECT 1;\n", "migrations/3_c.sql": "SELECT 3;\n",
                                 "migrations/4_d.sql": "SELECT 4;\n"})
    (root / "migrations/2_b.sql").write_text("SELECT 2;\n")
    (root / "migrations/4_d.sql").unlink()
    status, line, message = sum_case(root)
    assert (status, line) == (Status.FAILED, 3)  # 2_b.sql goes where 3_c.sql is listed
    assert "2_b.sql is not in atlas.sum" in message and "atlas.sum lists 4_d.sql, which is not in the directory" in message


def test_a_merge_conflict_or_a_hand_edit_of_the_sum_is_refused(tmp_path: Path) -> None:
    root = project_of(tmp_path, {"migrations/1_a.sql": "SELECT 1;\n"})
    sum_file = root / "migrations/atlas.sum"
    lines = sum_file.read_text().splitlines()
    sum_file.write_text("\n".join([lines[0], "<<<<<<< HEAD", lines[1], "=======", ">>>>>>> branch"]) + "\n")
    status, line, message = sum_case(root)
    assert (status, line) == (Status.FAILED, 2) and "(a merge conflict left in it?)" in message
    sum_file.write_text("h1:AAAA\n" + lines[1] + "\n")
    status, line, message = sum_case(root)
    assert (status, line) == (Status.FAILED, 1) and "is not the sum of the lines below it" in message


def test_a_file_that_asks_to_be_left_out_of_the_sum_is(tmp_path: Path) -> None:
    root = project_of(tmp_path, {"migrations/1_a.sql": "SELECT 1;\n", "migrations/2_b.sql": "atlas:sum ignore\nSELECT 2;\n"})
    assert "2_b.sql" not in (root / "migrations/atlas.sum").read_text()
    (root / "migrations/2_b.sql").write_text("atlas:sum ignore\nSELECT 3;\n")
    assert sum_case(root)[0] is Status.PASSED


def test_other_runners_files_beside_an_atlas_sum_stay_that_runners(tmp_path: Path) -> None:
    # atlas.hcl's `format = golang-migrate` (initia-labs/core-indexer) or goose (infratographer).
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {"migrations/1_a.up.sql": "SELECT 1;\n", "migrations/1_a.down.sql": "SELECT 1;\n"})
    hashed(root / "migrations")
    assert discover(root, repo_root=root).format == "golang-migrate"
    other = write_files(tmp_path / "other", {"migrations/1_a.sql": "-- +goose Up\nSELECT 1;\n"})
    (other / ".git").mkdir()
    hashed(other / "migrations")
    assert discover(other, repo_root=other).format == "goose"


def test_without_its_sum_a_directory_given_as_atlas_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {"migrations/1_a.sql": "SELECT 1;\n"})
    project = discover(root / "migrations", "atlas", repo_root=root)
    [case] = [r for r in static_checks(project, Settings()) if r.subject == "atlas.sum"]
    assert case.status is Status.FAILED and "atlas.sum is missing" in case.message


def test_new_writes_the_file_and_hashes_the_directory_again(tmp_path: Path) -> None:
    root = project_of(tmp_path, {"migrations/20240101000000_init.sql": "CREATE TABLE a (id int);\n"})
    created, updated = new_migration(Settings(path=root), "add_tags", NOW)
    assert created == [root / "migrations/20250906120000_add_tags.sql"] and updated == [root / "migrations/atlas.sum"]
    assert sum_case(root)[0] is Status.PASSED
    # A sum that did not match is left for the history check to report, not hidden.
    (root / "migrations/20240101000000_init.sql").write_text("CREATE TABLE b (id int);\n")
    created, updated = new_migration(Settings(path=root), "add_more", NOW)
    assert updated == [] and sum_case(root)[0] is Status.FAILED


def test_an_out_of_date_sum_fails_the_run_at_its_line(tmp_path: Path, pg_server) -> None:
    root = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    project_of(root, {
        "migrations/20240101000000_init.sql": "CREATE TABLE users (id bigint PRIMARY KEY);\n",
        "migrations/20240102000000_email.sql": "ALTER TABLE users ADD COLUMN email text;\n",
    })
    (root / "migrations/20240102000000_email.sql").write_text("ALTER TABLE users ADD COLUMN email text NOT NULL;\n")
    report = tmp_path / "r.xml"
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report)])
    assert code == 1, output.getvalue()
    [case] = [c for c in ET.parse(report).getroot().iter("testcase") if c.get("name") == "atlas.sum"]
    assert (case.get("file"), case.get("line")) == ("migrations/atlas.sum", "3")
    assert "20240102000000_email.sql was edited after atlas.sum was written" in case.find("failure").get("message")
    # Every migration still has its verdict: the replay ran both.
    applied = [c for c in ET.parse(report).getroot().iter("testcase") if c.get("classname") == "migration_check.apply"]
    assert [(c.get("name"), c.find("failure") is None) for c in applied] == [
        ("20240101000000_init", True), ("20240102000000_email", True)]


def test_a_branch_migration_older_than_the_bases_newest_is_refused_as_atlas_refuses_it(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    git = ["git", "-C", str(root), "-c", "user.email=a@b", "-c", "user.name=a"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    project_of(root, {"migrations/20240102000000_b.sql": "CREATE TABLE b (id int);\n"})
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "base"], check=True)
    subprocess.run([*git, "checkout", "-qb", "feature"], check=True)
    (root / "migrations/20240101000000_a.sql").write_text("CREATE TABLE a (id int);\n")
    hashed(root / "migrations")
    project = discover(root, repo_root=root)
    [case] = [r for r in static_checks(project, Settings(base_ref="main")) if r.subject == "20240101000000_a"]
    assert case.status is Status.FAILED
    assert ('which is already on main. On databases that ran main\'s migrations, `atlas migrate apply` stops with'
            ' "migration file 20240101000000_a.sql was added out of order"') in case.message
    # The project's own exec_order decides what Atlas does with it.
    (root / "atlas.hcl").write_text('env "local" {\n  migration {\n    dir = "file://migrations"\n'
                                    '    exec_order = LINEAR_SKIP\n  }\n}\n')
    project = discover(root, repo_root=root)
    [case] = [r for r in static_checks(project, Settings(base_ref="main")) if r.subject == "20240101000000_a"]
    assert "`atlas migrate apply` skips it without a word (exec_order = LINEAR_SKIP in atlas.hcl)" in case.message


def test_drift_leaves_out_the_revisions_table_where_atlas_hcl_keeps_it(tmp_path: Path) -> None:
    root = project_of(tmp_path, {"migrations/1_a.sql": "SELECT 1;\n",
                                 "atlas.hcl": 'env "prod" {\n  migration {\n    dir = "file://migrations"\n'
                                              '    revisions_schema = "public"\n  }\n}\n'})
    assert layout_named("atlas").history_tables(root / "migrations") == frozenset({
        "atlas_schema_revisions.atlas_schema_revisions", "public.atlas_schema_revisions"})


def test_a_baseline_in_a_new_atlas_directory_comes_with_its_sum(tmp_path: Path, database, capsys) -> None:
    import psycopg

    with psycopg.connect(database.conninfo, autocommit=True) as conn:
        conn.execute("create table accounts (id bigint primary key, email text not null unique)")
    directory = tmp_path / "migrations"
    assert main(["baseline", "--database-url", database.conninfo, "--dir", str(directory), "--format", "atlas"]) == 0
    printed = capsys.readouterr().out
    assert "created " in printed and f"updated {directory / 'atlas.sum'}" in printed
    [made] = atlas_sum.sql_files(directory)
    assert "CREATE TABLE public.accounts" in made.read_text()
    assert atlas_sum.refusals(directory) == []  # hashed with the dump in it, not the stub


def test_new_in_a_new_directory_writes_the_first_sum(tmp_path: Path) -> None:
    created, updated = new_migration(Settings(path=tmp_path / "migrations", format="atlas"), "init", NOW)
    assert [p.name for p in created] == ["20250906120000_init.sql"] and [p.name for p in updated] == ["atlas.sum"]
    assert atlas_sum.refusals(tmp_path / "migrations") == []


def test_an_atlas_directory_beside_prisma_migrations_is_an_ambiguity_not_a_guess(tmp_path: Path) -> None:
    # hatchet-dev/hatchet before v1: schema.prisma names prisma/migrations, while its image runs
    # `atlas migrate apply` on sql/migrations; only Atlas writes an atlas.sum.
    (tmp_path / ".git").mkdir()
    root = write_files(tmp_path, {
        "prisma/schema.prisma": 'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n',
        "prisma/migrations/migration_lock.toml": 'provider = "postgresql"\n',
        "prisma/migrations/20240101000000_init/migration.sql": "CREATE TABLE a (id int);\n",
        "sql/migrations/20240101000000_init.sql": "CREATE TABLE a (id int);\n",
    })
    hashed(root / "sql/migrations")
    with pytest.raises(UsageError) as raised:
        discover(root, repo_root=root)
    message = raised.value.one_line()
    assert "several migration directories" in message
    assert "directory from sql/migrations/atlas.sum (Atlas)" in message and "prisma/migrations" in message
