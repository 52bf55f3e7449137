"""sqitch discovery: plan order, dependencies, tags, reworked changes, malformed plans."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.discovery import discover
from migration_check.errors import FileError
from migration_check.servers.base import Database

WHO = "2024-01-01T10:00:00Z Ada Lovelace <ada@example.com>"


def plan(*lines: str) -> str:
    return "%syntax-version=1.0.0\n%project=shop\n\n" + "\n".join(lines) + "\n"


def scripts(*names: str, revert: bool = True, verify: bool = False) -> dict[str, str]:
    files = {}
    for name in names:
        files[f"deploy/{name}.sql"] = f"-- deploy {name}\n"
        if revert:
            files[f"revert/{name}.sql"] = f"-- revert {name}\n"
        if verify:
            files[f"verify/{name}.sql"] = f"-- verify {name}\n"
    return files


def test_plan_order_tags_and_reworked_changes(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "sqitch.plan": plan(
            f"schema {WHO} # Add schema.",
            f"users [schema] {WHO} # Users.",
            f"+touch [schema !legacy other_project:thing] {WHO}",
            f"@v1.0 {WHO} # Tag v1.0.",
            "# a comment line",
            f"touch [touch@v1.0] {WHO} # Rework touch.",
        ),
        "sqitch.conf": "[core]\n\tengine = pg\n",
        **scripts("schema", "users", "touch@v1.0", "touch", verify=True),
        "deploy/leftover.sql": "select 1;\n",
        "revert/gone.sql": "select 1;\n",
        # A README in a script directory is nobody's script (OneAngryDBA/example_db_6th_NF).
        "deploy/README.md": "# deploy scripts\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "sqitch" and found.reason == "sqitch.plan and 5 deploy scripts"
    assert [m.id for m in found.migrations] == ["schema", "users", "touch@v1.0", "touch"]
    first_touch = found.migrations[2]
    assert first_touch.up.path.name == "touch@v1.0.sql" and first_touch.down.path.name == "touch@v1.0.sql"
    assert first_touch.verify.path.parent.name == "verify"
    assert [m.sort_key for m in found.migrations] == [(0,), (1,), (2,), (3,)]
    # sqitch runs only what its plan names: a revert script of no change is a stray file, like a
    # deploy script of none (andrewah64/base-app-db keeps whole changes out of its plan).
    assert [s.path.name for s in found.stray_files] == ["leftover.sql", "gone.sql"]
    assert found.orphan_rollbacks == []


def test_sqitch_conf_says_where_the_plan_and_scripts_are(tmp_path: Path) -> None:
    # The engine's settings win over core's, the target's over the engine's (sqitch's Target.pm).
    write_files(tmp_path, {
        "sqitch.conf": (
            "[core]\n  engine = pg\n  plan_file = nowhere.plan\n  extension = psql\n"
            '[engine "pg"]\n  target = dev\n  plan_file = changes.plan  # wins over core\n'
            '[target "dev"]\n  uri = db:pg:///dev\n  deploy_dir = up\n  revert_dir = down\n'
        ),
        "changes.plan": plan(f"schema {WHO}", f"users [schema] {WHO}"),
        "up/schema.psql": "create schema shop;", "up/users.psql": "create table shop.users (id int);",
        "down/schema.psql": "drop schema shop;", "down/users.psql": "drop table shop.users;",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "sqitch"
    assert [(m.id, m.up.path.name, m.down.path.parent.name) for m in found.migrations] == [
        ("schema", "schema.psql", "down"), ("users", "users.psql", "down")]


@pytest.mark.parametrize(
    ("lines", "line", "words"),
    [
        ((f"schema {WHO}", "users [schema] yesterday Ada"), 5, "malformed change line"),
        ((f"users [schema] {WHO}",), 4, "not earlier in the plan"),
        ((f"schema {WHO}", f"schema {WHO}"), 5, "tag the plan before reworking"),
        ((f"@v1 {WHO}",), 4, "before any change"),
        ((f"schema {WHO}", f"users [schema@v9] {WHO}"), 5, "no tag @v9"),
        ((f"schema {WHO}", "%broken pragma"), 5, "malformed pragma"),
    ],
)
def test_malformed_plans_are_file_errors_at_their_line(tmp_path: Path, lines: tuple[str, ...], line: int, words: str) -> None:
    write_files(tmp_path, {"sqitch.plan": plan(*lines), **scripts("schema", "users")})
    with pytest.raises(FileError) as caught:
        discover(tmp_path, repo_root=tmp_path)
    assert caught.value.path.name == "sqitch.plan"
    assert caught.value.line == line and words in caught.value.message


def test_a_missing_deploy_script_is_a_refusal_at_its_plan_line_and_the_others_are_still_judged(tmp_path: Path) -> None:
    write_files(tmp_path, {"sqitch.plan": plan(f"schema {WHO}", f"users {WHO}"),
                           "revert/schema.sql": "-- revert schema\n", **scripts("users")})
    found = discover(tmp_path, repo_root=tmp_path)
    [refusal] = found.refusals
    assert (refusal.path.name, refusal.line) == ("sqitch.plan", 4)
    assert refusal.message == "deploy/schema.sql does not exist (sqitch deploy fails at this change)"
    schema, users = found.migrations
    assert schema.up is None and schema.refused and [p.name for p in schema.files] == ["schema.sql"]
    assert schema.skip_reason == "sqitch fails at it (line 4): deploy/schema.sql does not exist"
    assert users.up is not None and not users.refused


def test_found_in_a_conventional_directory(tmp_path: Path) -> None:
    write_files(tmp_path, {"db/sqitch.plan": plan(f"schema {WHO}"), **{f"db/{k}": v for k, v in scripts("schema").items()}})
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "sqitch" and found.directory == (tmp_path / "db").resolve()


def test_changes_named_with_slashes_have_their_scripts_in_subdirectories(tmp_path: Path) -> None:
    # BeeeOn/server-db: `beeeon.gateways/create` deploys deploy/beeeon.gateways/create.sql; the
    # description counted the deploy directory's top level alone ("0 deploy scripts").
    names = ("beeeon/create", "beeeon.gateways/create", "beeeon.gateways/check_name")
    write_files(tmp_path, {"pgsql/sqitch.plan": plan(*(f"{name} {WHO}" for name in names)),
                           **{f"pgsql/{k}": v for k, v in scripts(*names).items()}})
    found = discover(tmp_path, repo_root=tmp_path)
    assert [m.version for m in found.migrations] == list(names)
    assert found.reason.startswith("sqitch.plan and 3 deploy scripts"), found.reason


def test_a_top_dir_is_one_project_with_the_conf_that_names_it(tmp_path: Path) -> None:
    # AppCivico/De-Olho-Nas-Metas-2013: api/sqitch.conf says `top_dir = deploy_db`, where the plan
    # is; the tree search found api and api/deploy_db (and its deploy/) as three projects.
    write_files(tmp_path, {
        "api/sqitch.conf": "[core]\n\tengine = pg\n\ttop_dir = deploy_db\n",
        "api/deploy_db/sqitch.plan": plan(f"schema {WHO}"),
        **{f"api/deploy_db/{k}": v for k, v in scripts("schema").items()},
        "api/deploy_db/deploy/002_more.sql": "select 1;\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    assert found.format == "sqitch" and found.directory == (tmp_path / "api").resolve()
    assert [m.id for m in found.migrations] == ["schema"]


def verify_project(root: Path, conf: str) -> Path:
    """Change `users`' verify script reads `orders`, which the next change creates; `orders`'
    counts the rows its deploy wrote; `audit`'s fails however it is run."""
    return write_files(root, {
        "sqitch.conf": "[core]\n\tengine = pg\n" + conf,
        "sqitch.plan": plan(f"users {WHO}", f"orders [users] {WHO}", f"audit {WHO}"),
        "deploy/users.sql": "create table users (id int primary key);",
        "revert/users.sql": "drop table users;",
        "verify/users.sql": "select id from users; select id from orders;",
        "deploy/orders.sql": "create table orders (id int primary key);\ninsert into orders values (1);",
        "revert/orders.sql": "drop table orders;",
        "verify/orders.sql": "do $$ begin assert (select count(*) from orders) = 1; end $$;",
        "deploy/audit.sql": "create table audit (id int);",
        "revert/audit.sql": "drop table audit;",
        "verify/audit.sql": "select missing_column from audit;",
    })


def verify_cases(pg_server: Database, project: Path, tmp_path: Path) -> dict[str, ET.Element]:
    report = tmp_path / "report.xml"
    main(["check", str(project), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    return {c.attrib["name"]: c for c in ET.parse(report).getroot().iter("testcase")
            if c.attrib["classname"] == "migration_check.verify"}


def test_verify_scripts_run_on_the_whole_plan_unless_sqitch_verifies_each_deploy(pg_server: Database,
                                                                                 tmp_path: Path) -> None:
    # Without deploy.verify, sqitch runs them only as `sqitch verify`: on everything deployed.
    cases = verify_cases(pg_server, verify_project(tmp_path / "a", ""), tmp_path / "a")
    assert cases["users"].find("failure") is None
    audit = cases["audit"].find("failure")
    assert audit is not None and "run on the whole plan deployed, as `sqitch verify` runs it" in audit.attrib["message"]
    # The generated rows make orders' count wrong; without them it holds: a warning, not a failure.
    warning = cases["orders"].findtext("system-out") or ""
    assert cases["orders"].find("failure") is None
    assert warning.startswith("warning: ") and "it passes without the check's generated rows" in warning
    # With deploy.verify, sqitch runs each one right after its deploy: users' reads a table not made yet.
    cases = verify_cases(pg_server, verify_project(tmp_path / "b", "[deploy]\n\tverify = true\n"), tmp_path / "b")
    users = cases["users"].find("failure")
    assert users is not None and 'relation "orders" does not exist' in users.attrib["message"]


def test_the_variables_sqitch_passes_to_psql_are_set_for_each_script(pg_server: Database, tmp_path: Path) -> None:
    # sqitch runs psql with `--set name=value` for each configured variable (core, deploy, then
    # revert's or verify's, the engine's, the target's) and `--set registry=<its schema>`.
    root = write_files(tmp_path / "repo", {
        "sqitch.conf": ('[core]\n\tengine = pg\n[core "variables"]\n\towner = nobody\n[deploy "variables"]\n'
                        '\tschema = app\n[revert.variables]\n\tcascade = CASCADE\n[engine "pg.variables"]\n'
                        '\towner = app_owner\n'),
        "sqitch.plan": plan(f"app {WHO} # App schema."),
        "deploy/app.sql": ("BEGIN;\nCREATE SCHEMA :\"schema\";\nCREATE TABLE :\"schema\".t (id int);\n"
                           "COMMENT ON TABLE :\"schema\".t IS :'owner';\nSELECT :'registry';\nCOMMIT;\n"),
        "revert/app.sql": "BEGIN;\nDROP SCHEMA :\"schema\" :cascade;\nCOMMIT;\n",
    })
    found = discover(root, repo_root=root)
    [app] = found.migrations
    assert dict(app.up.variables) == {"owner": "app_owner", "schema": "app", "registry": "sqitch"}
    assert dict(app.down.variables)["cascade"] == "CASCADE"
    report = tmp_path / "report.xml"
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"]) == 0
    roundtrip = [c for c in ET.parse(report).getroot().iter("testcase") if c.attrib["classname"] == "migration_check.roundtrip"]
    assert roundtrip and roundtrip[0].find("failure") is None and roundtrip[0].find("skipped") is None


def two_projects(root: Path, requires: str = "oss:users oss:orders") -> Path:
    """chef/chef-server's oc_erchef: the plan requires changes of another sqitch project, its
    `baseline/` (`%project=oss`), which the README says is deployed first."""
    (root / ".git").mkdir(parents=True)
    write_files(root / "schema", {
        "sqitch.conf": "[core]\n\tengine = pg\n",
        "sqitch.plan": plan(f"wide_names [{requires}] {WHO} # Widen names.", f"audit [wide_names] {WHO}"),
        "deploy/wide_names.sql": "BEGIN;\nALTER TABLE users ALTER COLUMN name TYPE varchar(200);\nCOMMIT;\n",
        "revert/wide_names.sql": "BEGIN;\nALTER TABLE users ALTER COLUMN name TYPE varchar(100);\nCOMMIT;\n",
        "deploy/audit.sql": "CREATE TABLE audit (order_id int REFERENCES orders (id));\n",
        "revert/audit.sql": "DROP TABLE audit;\n",
        "baseline/sqitch.conf": "[core]\n\tengine = pg\n",
        "baseline/sqitch.plan": ("%syntax-version=1.0.0\n%project=oss\n\n"
                                 f"users {WHO}\norders [users] {WHO}\n@v1 {WHO}\nusers [users@v1] {WHO}\n"),
        "baseline/deploy/users@v1.sql": "CREATE TABLE users (id int PRIMARY KEY, name varchar(100));\n",
        "baseline/deploy/users.sql": "ALTER TABLE users ADD COLUMN email text;\n",
        "baseline/deploy/orders.sql": "CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES users (id));\n",
        "baseline/revert/users.sql": "DROP TABLE users;\n",
    })
    return root / "schema"


def test_another_projects_changes_the_plan_requires_are_deployed_first(tmp_path: Path) -> None:
    found = discover(two_projects(tmp_path / "repo"), repo_root=tmp_path / "repo")
    # The whole other plan, in its order (a reworked change's earlier version where it was), not
    # checked: it is the other project's, deployed before this one as sqitch requires.
    assert [s.path.relative_to(tmp_path / "repo/schema/baseline").as_posix() for s in found.setup] == [
        "deploy/users@v1.sql", "deploy/orders.sql", "deploy/users.sql"]
    assert [m.id for m in found.migrations] == ["wide_names", "audit"]
    assert found.setup_reason == ("sqitch project oss (baseline/sqitch.plan, 3 changes) deployed first: this plan"
                                  " requires oss:users, oss:orders")


def test_another_project_not_in_the_repository_is_named(tmp_path: Path) -> None:
    found = discover(two_projects(tmp_path / "repo", requires="erp:ledger"), repo_root=tmp_path / "repo")
    assert found.setup == []
    assert found.setup_reason == ("this plan requires erp:ledger of sqitch project erp, whose plan is not in the"
                                  " repository: deploy it first with a setup script (--setup FILE)")


def test_projects_that_require_each_other_are_each_deployed_once(tmp_path: Path) -> None:
    schema = two_projects(tmp_path / "repo")
    other = schema / "baseline/sqitch.plan"
    other.write_text(other.read_text().replace("orders [users]", "orders [users shop:audit]"))
    found = discover(schema, repo_root=tmp_path / "repo")
    assert [s.path.name for s in found.setup] == ["users@v1.sql", "orders.sql", "users.sql"]


def test_a_plan_that_requires_another_project_replays_on_it(pg_server: Database, tmp_path: Path) -> None:
    schema = two_projects(tmp_path / "repo")
    report = tmp_path / "report.xml"
    assert main(["check", str(schema), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"]) == 0
    failed = [c.attrib["name"] for c in ET.parse(report).getroot().iter("testcase") if c.find("failure") is not None]
    assert failed == []
