"""The history check through real git repositories: a main branch, a feature branch, `--base-ref main`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from migration_check.discovery import discover
from migration_check.discovery.graphile_migrate import calculate_hash
from migration_check.errors import MigrationCheckError, UsageError
from migration_check.history import static_checks
from migration_check.history.git import NoMergeBase, deleted_files, tree_files
from migration_check.model import Status
from migration_check.settings import Settings

INIT = {
    "migrations/20250101000000_create_users.sql": "create table users (id int);\n",
    "migrations/20250101000000_create_users_rollback.sql": "drop table users;\n",
    "migrations/20250201000000_add_email.sql": "alter table users add column email text;\n",
    "migrations/20250201000000_add_email_rollback.sql": "alter table users drop column email;\n",
}


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user or system git config (signing, hooks, default branch) leaks into the tests."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "test@example.com")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def commit(repo: Path, message: str, write: dict[str, str] | None = None, remove: tuple[str, ...] = ()) -> None:
    for relative, text in (write or {}).items():
        path = repo / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for relative in remove:
        git(repo, "rm", "-q", relative)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def branched(tmp_path: Path, files: dict[str, str]) -> Path:
    """A repository whose main holds `files`, with `feature` checked out from it."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(root, "init", files)
    git(root, "checkout", "-q", "-b", "feature")
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """main with two migrations, and `feature` checked out from it."""
    return branched(tmp_path, INIT)


def run(repo: Path, base_ref: str | None = "main") -> dict[str, Any]:
    """Every test case of the static checks, and the history ones by subject."""
    results = static_checks(discover(repo), Settings(path=repo, base_ref=base_ref))
    return {"all": results, "history": {r.subject: r for r in results if r.check == "history"}}


def test_clean_branch_passes_everything(repo: Path) -> None:
    commit(repo, "add orders", {
        "migrations/20250301000000_add_orders.sql": "create table orders (id int);\n",
        "migrations/20250301000000_add_orders_rollback.sql": "drop table orders;\n",
    })
    results = run(repo)["all"]
    assert {r.status for r in results} == {Status.PASSED}
    assert len([r for r in results if r.check == "history"]) == 3


def test_out_of_order_migration_added_on_a_branch(repo: Path) -> None:
    # main merges a newer migration after the branch started; the branch adds an older timestamp.
    git(repo, "checkout", "-q", "main")
    commit(repo, "index", {"migrations/20250301000000_add_index.sql": "select 1;\n", "migrations/20250301000000_add_index_rollback.sql": "select 2;\n"})
    git(repo, "checkout", "-q", "feature")
    commit(repo, "phone", {"migrations/20250215000000_add_phone.sql": "select 3;\n", "migrations/20250215000000_add_phone_rollback.sql": "select 4;\n"})

    result = run(repo)["history"]["20250215000000_add_phone"]
    assert result.status is Status.FAILED
    assert result.file == "migrations/20250215000000_add_phone.sql"
    assert "sorts before 20250301000000_add_index.sql" in result.message and "main" in result.message
    # After rebasing with a fresh timestamp it passes.
    git(repo, "mv", "migrations/20250215000000_add_phone.sql", "migrations/20250401000000_add_phone.sql")
    git(repo, "mv", "migrations/20250215000000_add_phone_rollback.sql", "migrations/20250401000000_add_phone_rollback.sql")
    assert run(repo)["history"]["20250401000000_add_phone"].status is Status.PASSED


def test_edited_base_migration_fails_at_the_first_changed_line(repo: Path) -> None:
    path = repo / "migrations/20250201000000_add_email.sql"
    path.write_text("alter table users add column email text;\nalter table users add column phone text;\n")
    result = run(repo)["history"]["20250201000000_add_email"]  # uncommitted edits count too
    assert result.status is Status.FAILED
    assert (result.file, result.line) == ("migrations/20250201000000_add_email.sql", 2)
    assert "already on main" in result.message


def test_deleted_base_migration_fails_naming_the_file(repo: Path) -> None:
    commit(repo, "drop", remove=("migrations/20250201000000_add_email.sql", "migrations/20250201000000_add_email_rollback.sql"))
    result = run(repo)["history"]["20250201000000_add_email"]
    assert result.status is Status.FAILED
    assert result.file == "migrations/20250201000000_add_email.sql"
    assert "deletes it" in result.message


def test_renamed_base_migration_fails(repo: Path) -> None:
    git(repo, "mv", "migrations/20250201000000_add_email.sql", "migrations/20250501000000_add_email.sql")
    git(repo, "mv", "migrations/20250201000000_add_email_rollback.sql", "migrations/20250501000000_add_email_rollback.sql")
    result = run(repo)["history"]["20250201000000_add_email"]
    assert result.status is Status.FAILED
    assert result.file == "migrations/20250501000000_add_email.sql" and "renames it" in result.message


def test_a_migration_renamed_under_its_version_passes(repo: Path) -> None:
    git(repo, "mv", "migrations/20250201000000_add_email.sql", "migrations/20250201000000_add_email_column.sql")
    git(repo, "mv", "migrations/20250201000000_add_email_rollback.sql",
        "migrations/20250201000000_add_email_column_rollback.sql")
    assert [r.status for r in run(repo)["history"].values()] == [Status.PASSED] * 2


def test_a_flyway_migration_renamed_under_its_version_fails_as_flyway_validates(tmp_path: Path) -> None:
    root = branched(tmp_path, {"db/migration/V1__users.sql": "create table users (id int);\n",
                               "db/migration/V2__email.sql": "alter table users add column email text;\n"})
    git(root, "mv", "db/migration/V2__email.sql", "db/migration/V2__add_email.sql")
    history = run(root)["history"]
    assert history["1_users"].status is Status.PASSED
    renamed = history["2_add_email"]
    assert renamed.status is Status.FAILED and renamed.file == "db/migration/V2__add_email.sql"
    assert renamed.message == (
        "V2__email.sql is on main, and this branch renames it to V2__add_email.sql under the same version 2: on"
        " databases that ran it, Flyway's validation fails and it migrates nothing (\"Migration description mismatch"
        " for migration version 2\"). Restore the old name.")


def test_a_flyway_script_whose_line_endings_alone_changed_is_no_edit(tmp_path: Path) -> None:
    # Flyway checksums a script line by line, without line breaks, its BOM filtered out: normalising
    # CRLF to LF, dropping a BOM, a final newline or blank lines keeps the checksum Flyway validates.
    root = branched(tmp_path, {"db/migration/V1__users.sql": "\ufeffcreate table users (id int);\r\nselect 1;\r\n"})
    (root / "db/migration/V1__users.sql").write_text("create table users (id int);\nselect 1;\n")
    assert [r.status for r in run(root)["history"].values()] == [Status.PASSED]
    # MarquezProject/marquez gave 28 merged scripts a final newline; blank lines are no lines to Flyway's CRC either.
    (root / "db/migration/V1__users.sql").write_text("create table users (id int);\n\nselect 1;\n\n")
    assert [r.status for r in run(root)["history"].values()] == [Status.PASSED]
    (root / "db/migration/V1__users.sql").write_text("\ncreate table users (id bigint);\nselect 1;\n")
    [edited] = run(root)["history"].values()
    assert edited.status is Status.FAILED and edited.line == 1 and "Migration checksum mismatch" in edited.message


def test_version_reused_after_a_deletion_on_main(repo: Path) -> None:
    git(repo, "checkout", "-q", "main")
    commit(repo, "legacy", {"migrations/20250210000000_legacy.sql": "select 1;\n", "migrations/20250210000000_legacy_rollback.sql": "select 2;\n"})
    commit(repo, "drop legacy", remove=("migrations/20250210000000_legacy.sql", "migrations/20250210000000_legacy_rollback.sql"))
    commit(repo, "newer", {"migrations/20250301000000_x.sql": "select 5;\n", "migrations/20250301000000_x_rollback.sql": "select 6;\n"})
    git(repo, "checkout", "-q", "feature")
    git(repo, "merge", "-q", "main")
    commit(repo, "reuse", {"migrations/20250210000000_other.sql": "select 3;\n", "migrations/20250210000000_other_rollback.sql": "select 4;\n"})
    result = run(repo)["history"]["20250210000000_other"]
    assert result.status is Status.FAILED
    assert "20250210000000_legacy.sql" in result.message and "deleted" in result.message


def test_without_base_ref_the_base_part_is_skipped(repo: Path) -> None:
    history = run(repo, base_ref=None)["history"]
    assert history["against the base branch"].status is Status.SKIPPED
    assert history["against the base branch"].message == "no --base-ref given"


def test_an_unknown_base_ref_fails_the_base_case_and_the_rest_still_runs(repo: Path) -> None:
    results = run(repo, base_ref="develop")
    case = results["history"]["against the base branch"]
    assert case.status is Status.FAILED and case.line == 1
    assert "--base-ref develop: git cannot find 'develop'" in case.message and "fetch-depth: 0" in case.message
    assert any(r.check == "naming" for r in results["all"])  # the other static checks are there


def test_shallow_clone_without_the_base_says_how_to_fetch_it(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "main")
    commit(repo, "more", {"migrations/20250301000000_x.sql": "", "migrations/20250301000000_x_rollback.sql": ""})
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{repo}", str(clone)], check=True)
    case = run(clone)["history"]["against the base branch"]
    assert case.status is Status.FAILED
    assert "(the clone is shallow)" in case.message and "fetch-depth: 0" in case.message


def test_shallow_base_without_common_history_is_an_error(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "main")
    commit(repo, "more", {"migrations/20250301000000_x.sql": "", "migrations/20250301000000_x_rollback.sql": ""})
    git(repo, "checkout", "-q", "feature")
    commit(repo, "feat", {"migrations/20250401000000_y.sql": "", "migrations/20250401000000_y_rollback.sql": ""})
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-single-branch", "--branch", "feature", f"file://{repo}", str(clone)], check=True)
    with pytest.raises(NoMergeBase) as caught:
        run(clone)
    assert isinstance(caught.value, MigrationCheckError) and "fetch-depth: 0" in str(caught.value)


def test_a_ci_clone_finds_the_base_as_origin_branch(repo: Path, tmp_path: Path) -> None:
    commit(repo, "feat", {"migrations/20250401000000_y.sql": "", "migrations/20250401000000_y_rollback.sql": ""})
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--branch", "feature", f"file://{repo}", str(clone)], check=True)
    assert "main" not in git(clone, "branch", "--list", "main")  # only origin/main exists
    assert {r.status for r in run(clone)["all"]} == {Status.PASSED}


def test_base_ref_outside_git_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "plain" / "migrations"
    folder.mkdir(parents=True)
    for relative, text in INIT.items():
        (folder.parent / relative).write_text(text)
    with pytest.raises(UsageError, match="git repository"):
        static_checks(discover(folder), Settings(base_ref="main"))


def test_git_readers(repo: Path) -> None:
    commit(repo, "drop", remove=("migrations/20250201000000_add_email_rollback.sql",))
    files = tree_files(repo, "HEAD", "migrations")
    assert sorted(files) == sorted(k for k in INIT if "add_email_rollback" not in k)
    assert files["migrations/20250101000000_create_users.sql"] == INIT["migrations/20250101000000_create_users.sql"].encode()
    assert deleted_files(repo, "HEAD", "migrations") == {
        "migrations/20250201000000_add_email_rollback.sql": INIT["migrations/20250201000000_add_email_rollback.sql"].encode()
    }
    assert tree_files(repo, "main", "nowhere") == {}


def test_every_location_of_one_history_is_read_from_the_base(tmp_path: Path) -> None:
    # Alembic's version_locations: the base's revisions in the second location are read too, so an
    # edit of one already on main is caught there, and a new revision beside it is no edit.
    def revision(rev: str, down: str | None, sql: str) -> str:
        return (f"from alembic import op\nrevision = {rev!r}\ndown_revision = {down!r}\n\n\ndef upgrade():\n"
                f"    op.execute({sql!r})\n\n\ndef downgrade():\n    op.execute('select 1')\n")

    root = branched(tmp_path, {
        "alembic.ini": "[alembic]\nscript_location = alembic\nversion_locations = alembic/versions modules/billing\n",
        "alembic/versions/a1_users.py": revision("a1", None, "create table users (id int)"),
        "modules/billing/b2_invoices.py": revision("b2", "a1", "create table invoices (id int)"),
    })
    commit(root, "paid", {"modules/billing/c3_paid.py": revision("c3", "b2", "alter table invoices add paid bool")})
    history = run(root)["history"]
    assert {subject: r.status for subject, r in history.items()} == dict.fromkeys(
        ["a1_users", "b2_invoices", "c3_paid"], Status.PASSED)
    (root / "modules/billing/b2_invoices.py").write_text(revision("b2", "a1", "create table invoices (id bigint)"))
    edited = run(root)["history"]["b2_invoices"]
    assert edited.status is Status.FAILED and "already on main" in edited.message
    assert (edited.file, edited.line) == ("modules/billing/b2_invoices.py", 7)


def test_an_edit_of_the_sql_file_a_module_reads_is_an_edit_of_its_migration(tmp_path: Path) -> None:
    # A knex module that sends `fs.readFileSync(path.join(__dirname, '..', 'sql', ...), 'utf8')`:
    # the file is part of the migration for the history check (not named by the naming check).
    def module(name: str) -> str:
        return ("const fs = require('fs');\nconst path = require('path');\n\n"
                "exports.up = function (knex) {\n"
                f"  return knex.raw(fs.readFileSync(path.join(__dirname, '..', 'sql', '{name}.sql'), 'utf8'));\n"
                "};\n\nexports.down = function (knex) {\n  return knex.raw('select 1');\n};\n")

    root = branched(tmp_path, {"migrations/20250101000000_users.js": module("users"),
                               "sql/users.sql": "create table users (id int);\n"})
    commit(root, "orders", {"migrations/20250201000000_orders.js": module("orders"),
                            "sql/orders.sql": "create table orders (id int);\n"})
    project = discover(root)
    assert [m.read_files for m in project.migrations] == [(root / "sql/users.sql",), (root / "sql/orders.sql",)]
    found = run(root)
    assert {subject: r.status for subject, r in found["history"].items()} == dict.fromkeys(
        ["20250101000000_users.js", "20250201000000_orders.js"], Status.PASSED)
    assert not any(r.file and r.file.startswith("sql/") for r in found["all"] if r.check == "naming")
    (root / "sql/users.sql").write_text("create table users (id int);\ncreate index on users (id);\n")
    edited = run(root)["history"]["20250101000000_users.js"]
    assert edited.status is Status.FAILED and "already on main" in edited.message
    assert (edited.file, edited.line) == ("sql/users.sql", 2)


def test_an_edit_of_a_liquibase_sqlfile_after_the_merge_is_an_edit_of_its_changeset(tmp_path: Path) -> None:
    # Liquibase checksums a sqlFile's text with its changeset: an edit of a merged one makes it
    # refuse to run ("checksum changed"), so the file is part of the changeset for the history check.
    changelog = ("databaseChangeLog:\n  - changeSet:\n      id: 1\n      author: ada\n      changes:\n"
                 "        - sqlFile:\n            path: sql/users.sql\n            relativeToChangelogFile: true\n")
    root = branched(tmp_path, {"db/changelog/db.changelog-master.yaml": changelog,
                               "db/changelog/sql/users.sql": "create table users (id int);\n"})
    assert [m.read_files for m in discover(root).migrations] == [(root / "db/changelog/sql/users.sql",)]
    assert {r.status for r in run(root)["history"].values()} == {Status.PASSED}
    (root / "db/changelog/sql/users.sql").write_text("create table users (id int);\ncreate index on users (id);\n")
    [edited] = run(root)["history"].values()
    assert edited.status is Status.FAILED and "already on main" in edited.message
    assert (edited.file, edited.line) == ("db/changelog/sql/users.sql", 2)


HEAD_XML = '<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'


def _yaml_changeset(number: int, sql: str, extra: str = "") -> str:
    return (f"  - changeSet:\n      id: {number}\n      author: ada\n{extra}      changes:\n        - sql:\n"
            f"            sql: {sql}\n")


def test_a_changeset_appended_to_a_merged_liquibase_changelog_passes(tmp_path: Path) -> None:
    # Liquibase checksums each changeset, never the file: appending one to a merged changelog is
    # how Liquibase projects grow. The whole file was compared, and the first changeset of every
    # changelog a branch appended to was "already on main, and this branch changes it".
    master = "db/changelog/db.changelog-master.yaml"
    root = branched(tmp_path, {master: "databaseChangeLog:\n" + _yaml_changeset(1, "create table users (id int);")})
    (root / master).write_text((root / master).read_text() + _yaml_changeset(2, "create table orders (id int);"))
    assert {r.status for r in run(root)["history"].values()} == {Status.PASSED}
    # Whitespace is not in the checksum either; the changes are.
    (root / master).write_text((root / master).read_text().replace("users (id int)", "users  (id int)"))
    assert {r.status for r in run(root)["history"].values()} == {Status.PASSED}
    (root / master).write_text((root / master).read_text().replace("users  (id int)", "users (id bigint)"))
    edited = run(root)["history"]["db.changelog-master.yaml::1::ada"]
    assert edited.status is Status.FAILED and (edited.file, edited.line) == (master, 3)
    assert "changes db.changelog-master.yaml::1::ada, written at line 3: on databases that ran it, Liquibase's" \
           " validation fails" in edited.message


def test_a_run_on_change_liquibase_changeset_may_change(tmp_path: Path) -> None:
    master = "db/changelog/db.changelog-master.yaml"
    view = _yaml_changeset(1, "create or replace view v as select 1;", "      runOnChange: true\n")
    root = branched(tmp_path, {master: "databaseChangeLog:\n" + view})
    (root / master).write_text((root / master).read_text().replace("select 1", "select 2"))
    assert {r.status for r in run(root)["history"].values()} == {Status.PASSED}


def test_liquibase_changesets_inserted_or_renamed_are_named_by_their_labels(tmp_path: Path) -> None:
    # traccar/traccar renamed changeset changelog-6.11.0-other to -other-new in its file: the
    # findings named the file twice ("renames changelog-6.11.0.xml to changelog-6.11.0.xml").
    master = "db/changelog/db.changelog-master.yaml"
    first, second = _yaml_changeset(1, "create table users (id int);"), _yaml_changeset(2, "create table orders (id int);")
    root = branched(tmp_path, {master: "databaseChangeLog:\n" + first + second})
    (root / master).write_text("databaseChangeLog:\n" + first.replace("id: 1", "id: 1b") + second)
    history = run(root)["history"]
    assert history["db.changelog-master.yaml::1::ada"].message == (
        "db.changelog-master.yaml::1::ada is on main, and this branch renames it to db.changelog-master.yaml::1b::ada:"
        " databases that ran it would run it again under the new name. Restore the old name.")
    (root / master).write_text("databaseChangeLog:\n" + first + _yaml_changeset(3, "select 1;") + second)
    inserted = run(root)["history"]["db.changelog-master.yaml::3::ada"]
    assert inserted.message == (
        "db.changelog-master.yaml::3::ada is new on this branch but sorts before db.changelog-master.yaml::2::ada, which"
        " is already on main. On databases that ran main's migrations, Liquibase runs db.changelog-master.yaml::3::ada"
        " after the changesets that follow it in the changelog, which they already ran. Move it after"
        " db.changelog-master.yaml::2::ada, so that it runs last.")


def test_an_xml_changeset_that_lists_valid_checksums_may_change(tmp_path: Path) -> None:
    master = "db/changelog/db.changelog-master.xml"
    xml = ('<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog">\n'
           '  <changeSet id="1" author="ada">\n    <validCheckSum>ANY</validCheckSum>\n'
           '    <sql>create view v as select 1</sql>\n  </changeSet>\n'
           '  <changeSet id="2" author="ada">\n    <sql>create table t (id int)</sql>\n  </changeSet>\n'
           '</databaseChangeLog>\n')
    root = branched(tmp_path, {master: xml})
    (root / master).write_text(xml.replace("select 1", "select 2"))
    assert {r.status for r in run(root)["history"].values()} == {Status.PASSED}
    (root / master).write_text(xml.replace("t (id int)", "t (id bigint)"))
    edited = run(root)["history"]["db.changelog-master.xml::2::ada"]
    assert edited.status is Status.FAILED and edited.line == 6
    # apache/fineract's 1017_add_fee_and_penalty_adjustments_to_loan.xml: the edit lists the checksum
    # its databases hold, which Liquibase then accepts.
    listed = xml.replace('id="2" author="ada">\n', 'id="2" author="ada">\n    <validCheckSum>9:9e13876473fb</validCheckSum>\n')
    (root / master).write_text(listed.replace("t (id int)", "t (id bigint)"))
    assert {r.status for r in run(root)["history"].values()} == {Status.PASSED}


def test_liquibase_changesets_compared_as_written_and_as_the_project_filters_them(tmp_path: Path) -> None:
    # apache/fineract: a changeset's `${fineract.tenant.host}` is put in from the application's
    # properties, which the base's copy of the changelogs lacks: compared expanded, it was "edited"
    # on every branch. And two changesets of one id for other contexts (postgresql, mysql), one left
    # out where the project runs: the base dropped both, and the kept one was "new on this branch".
    resources = "src/main/resources"
    changelog = (HEAD_XML + '  <changeSet id="1" author="ada" context="postgresql"><sql>create table t (host text default'
                 ' \'${host}\')</sql></changeSet>\n  <changeSet id="1" author="ada" context="mysql"><sql>create table t'
                 ' (host text)</sql></changeSet>\n  <changeSet id="2" author="ada"><sql>create table u (id int)</sql>'
                 '</changeSet>\n</databaseChangeLog>\n')
    root = branched(tmp_path, {f"{resources}/application.properties": "spring.liquibase.contexts=postgresql\n"
                                                                      "spring.liquibase.parameters.host=db\n",
                               f"{resources}/db/changelog/db.changelog-master.xml": changelog})
    history = run(root)["history"]
    assert {subject: r.status for subject, r in history.items()} == dict.fromkeys(
        ["db.changelog-master.xml::1::ada", "db.changelog-master.xml::2::ada"], Status.PASSED)


def test_formatted_sql_changesets_are_compared_one_by_one(tmp_path: Path) -> None:
    changelog = "db/changelog/db.changelog-master.sql"
    first = "--liquibase formatted sql\n\n--changeset ada:1\ncreate table users (id int);\n--rollback drop table users;\n"
    root = branched(tmp_path, {changelog: first})
    second = "\n--changeset ada:2\ncreate table orders (id int);\n--rollback drop table orders;\n"
    (root / changelog).write_text(first.replace("drop table users;", "drop table if exists users;") + second)
    assert {r.status for r in run(root)["history"].values()} == {Status.PASSED}  # a rollback is not checksummed
    (root / changelog).write_text(first.replace("(id int)", "(id bigint)") + second)
    edited = run(root)["history"]["db.changelog-master.sql::1::ada"]
    assert edited.status is Status.FAILED and edited.line == 3


def test_an_edited_sqlx_migration_says_sqlx_refuses_it(tmp_path: Path) -> None:
    # mCaptcha/mCaptcha added a licence header to ten merged migrations: sqlx checksums the file.
    root = branched(tmp_path, {"Cargo.toml": "[dependencies]\nsqlx = \"0.7\"\n",
                               "migrations/20210310122154_users.sql": "create table users (id int);\n"})
    (root / "migrations/20210310122154_users.sql").write_text("-- SPDX-License-Identifier: AGPL-3.0\ncreate table users (id int);\n")
    [edited] = run(root)["history"].values()
    assert edited.status is Status.FAILED and edited.line == 1
    assert "sqlx checksums the file, so it refuses to migrate databases that ran it, even over a comment (\"migration" \
           " 20210310122154 was previously applied but has been modified\")" in edited.message


def test_a_sqitch_project_at_the_root_with_its_scripts_in_top_dir(tmp_path: Path) -> None:
    # Tamarou/Registry: sqitch.conf at the root says `top_dir = ./sql`. The base was read from the
    # root's own files alone, without sql/, and the history check stopped ("the plan file
    # sql/sqitch.plan does not exist"). A verify script changes no database: sqitch runs the working
    # tree's, so editing a merged one is no edit of what databases ran; a deploy script's is.
    who = "2024-01-01T10:00:00Z Ada Lovelace <ada@example.com>"
    root = branched(tmp_path, {
        "sqitch.conf": "[core]\n\tengine = pg\n\ttop_dir = ./sql\n",
        "sql/sqitch.plan": f"%syntax-version=1.0.0\n%project=shop\n\nusers {who} # Users.\n",
        "sql/deploy/users.sql": "create table users (id int);\n",
        "sql/revert/users.sql": "drop table users;\n",
        "sql/verify/users.sql": "select id from users where false;\n",
    })
    assert {r.status for r in run(root)["history"].values()} == {Status.PASSED}
    (root / "sql/verify/users.sql").write_text("select id from users where false;\nselect 1;\n")
    assert {r.status for r in run(root)["history"].values()} == {Status.PASSED}
    (root / "sql/deploy/users.sql").write_text("create table users (id bigint);\n")
    [edited] = run(root)["history"].values()
    assert edited.status is Status.FAILED and (edited.file, edited.line) == ("sql/deploy/users.sql", 1)


def test_a_project_the_base_predates_is_new_on_the_branch(tmp_path: Path) -> None:
    # OpenFn/db: a sqitch project at the root, added after the base, whose root held only LICENSE.
    # Read from git, the base's root made no sqitch project ("the plan file sqitch.plan does not
    # exist") and the run stopped; it holds no migrations of this project.
    root = branched(tmp_path, {"LICENSE": "MIT\n"})
    who = "2024-01-01T10:00:00Z Ada Lovelace <ada@example.com>"
    commit(root, "sqitch", {
        "sqitch.conf": "[core]\n\tengine = pg\n",
        "sqitch.plan": f"%syntax-version=1.0.0\n%project=shop\n\nusers {who} # Users.\n",
        "deploy/users.sql": "create table users (id int);\n",
        "revert/users.sql": "drop table users;\n",
    })
    assert [r.status for r in run(root)["history"].values()] == [Status.PASSED]


def test_flyway_java_migrations_outside_the_scripts_directory_are_read_from_the_base(tmp_path: Path) -> None:
    # MarquezProject/marquez: its Java migrations live in api/src/main/java/marquez/db/migrations,
    # beside the scripts in api/src/main/resources/marquez/db/migration. The base was read from the
    # scripts' directory alone, so every Java migration, merged long before, was "new on this branch
    # but sorts before" the scripts after it.
    scripts, code = "api/src/main/resources/marquez/db/migration", "api/src/main/java/marquez/db/migrations"
    java = "public class V1_1__Backfill extends BaseJavaMigration {}\n"
    root = branched(tmp_path, {f"{scripts}/V1__jobs.sql": "create table jobs (id int);\n",
                               f"{scripts}/V2__runs.sql": "create table runs (id int);\n",
                               f"{code}/V1_1__Backfill.java": java})
    commit(root, "a late one", {f"{code}/V1_2__Late.java": java.replace("V1_1__Backfill", "V1_2__Late")})
    history = run(root)["history"]
    assert {subject: r.status for subject, r in history.items() if subject != "1.2_Late"} == dict.fromkeys(
        ["1_jobs", "1.1_Backfill", "2_runs"], Status.PASSED)
    late = history["1.2_Late"]
    assert late.status is Status.FAILED and "is new on this branch but sorts before V2__runs.sql" in late.message
    assert (late.file, late.line) == (f"{code}/V1_2__Late.java", 1)
    # A Java migration keeps no checksum unless it overrides getChecksum(): its edit is never run, not refused.
    (root / f"{code}/V1_1__Backfill.java").write_text(java + "// and more\n")
    edited = run(root)["history"]["1.1_Backfill"]
    assert edited.status is Status.FAILED and "databases that ran it will not run it again" in edited.message


def test_graphile_migrates_current_migration_committed_on_the_base(tmp_path: Path) -> None:
    # DanielFGray/postgres.garden: main committed migrations/current/1-current.sql into committed/.
    # The base's current/ folder, now read with the base (a directory the layout keeps outside
    # committed/), made the files deleted on main alone a project with no committed/ folder, and
    # the run stopped ("migrations/committed: No such file or directory").
    first, second = "create table users (id int);\n", "create table posts (id int);\n"
    hashed = calculate_hash(first, None)
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    commit(root, "init", {".gmrc": "{}\n", "migrations/committed/000001.sql": f"--! Previous: -\n--! Hash: {hashed}\n\n"
                          + first, "migrations/current/1-current.sql": second})
    commit(root, "commit current", {
        "migrations/committed/000002.sql": f"--! Previous: {hashed}\n--! Hash: {calculate_hash(second, hashed)}\n\n"
                                           + second}, remove=("migrations/current/1-current.sql",))
    git(root, "checkout", "-q", "-b", "feature")
    history = run(root)["history"]
    assert {subject: r.status for subject, r in history.items()} == dict.fromkeys(["000001", "000002"], Status.PASSED)


def test_a_kysely_migration_new_on_the_branch_that_sorts_first_stops_the_migrator(tmp_path: Path) -> None:
    # Kysely's Migrator refuses a pending migration that sorts before an executed one ("corrupted
    # migrations"), unless the project sets allowUnorderedMigrations.
    module = "import { Kysely, sql } from 'kysely'\nexport async function up(db: Kysely<any>) {\n  await sql`select 1`.execute(db)\n}\n"
    root = branched(tmp_path, {"package.json": '{"dependencies": {"kysely": "^0.27.0", "pg": "^8"}}',
                               "migrations/2024_02_users.ts": module})
    commit(root, "an early one", {"migrations/2024_01_early.ts": module})
    [late] = [r for r in run(root)["history"].values() if r.status is Status.FAILED]
    assert 'Kysely\'s Migrator stops with "corrupted migrations' in late.message
    commit(root, "unordered", {"src/migrate.ts": "new Migrator({ db, provider, allowUnorderedMigrations: true })\n"})
    [late] = [r for r in run(root)["history"].values() if r.status is Status.FAILED]
    assert "Kysely's Migrator runs it after newer ones (allowUnorderedMigrations: true)" in late.message
