"""golang-migrate's file names, shared by gobuffalo/pop, whose SQL migrations are Go templates."""

from __future__ import annotations

import subprocess
from pathlib import Path

from conftest import write_files
from migration_check.discovery import discover, layout_named

TEMPLATED = ('-- alter user schema\n\nALTER TABLE {{ index .Options "Namespace" }}.users\n'
             "ADD COLUMN IF NOT EXISTS phone VARCHAR(15) NULL;\n")


def repository(root: Path, files: dict[str, str]) -> Path:
    write_files(root, files)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return root


def test_a_pop_template_is_not_replayed_and_says_why(tmp_path: Path) -> None:
    # supabase/auth: 70 migrations, each a syntax error at `{` before; the module requires pop.
    root = repository(tmp_path, {"go.mod": "module x\n\nrequire github.com/gobuffalo/pop/v6 v6.1.1\n",
                                 "migrations/20210710035447_alter_users.up.sql": TEMPLATED,
                                 "migrations/20210710035448_plain.up.sql": "select '{{not a template}}';\n"})
    templated, plain = discover(root / "migrations", repo_root=root).migrations
    assert templated.skip_reason == ("not replayed: line 3 looks up the option Namespace (a Go template action), which"
                                     " gobuffalo/pop fills in from the running program's connection details: give its"
                                     " value with --var Namespace=VALUE (or vars: in the config)")
    # pop renders every file, strings too: a `{{` anywhere is its action, and this one is no lookup.
    assert plain.skip_reason == ("not replayed: line 1 is a Go template action, {{not a template}}, which"
                                 " gobuffalo/pop fills in when it runs the file (the module requires pop); its value"
                                 " is the running program's")


def test_a_pop_template_is_rendered_with_the_values_given(tmp_path: Path) -> None:
    # supabase/auth's migrate command gives pop the option Namespace (its DB_NAMESPACE, `auth`).
    root = repository(tmp_path, {"go.mod": "module x\n\nrequire github.com/gobuffalo/pop/v6 v6.1.1\n",
                                 "migrations/20210710035447_alter_users.up.sql": TEMPLATED,
                                 "migrations/20210710035448_grant.up.sql": "grant usage on schema {{.Options.Namespace}}"
                                                                           " to {{ index .Options `Role` }};\n",
                                 "migrations/20210710035449_other.up.sql": "select '{{ .Dialect }}';\n"})
    templated, grant, other = discover(root / "migrations", repo_root=root,
                                       values={"Namespace": "auth", "Role": "authenticated"}).migrations
    assert templated.skip_reason is None and templated.up is not None
    assert templated.up.sql == TEMPLATED.replace('{{ index .Options "Namespace" }}', "auth")  # the same lines
    assert grant.up is not None and grant.up.sql == "grant usage on schema auth to authenticated;\n"
    assert other.skip_reason is not None and "{{ .Dialect }}" in other.skip_reason  # no option lookup: as before


def test_without_pop_braces_are_the_sqls_own(tmp_path: Path) -> None:
    root = repository(tmp_path, {"go.mod": "module x\n\nrequire github.com/golang-migrate/migrate/v4 v4.17.0\n",
                                 "migrations/1_templates.up.sql": "insert into t values ('Hello {{name}}');\n"})
    [migration] = discover(root / "migrations", repo_root=root).migrations
    assert migration.skip_reason is None


def test_the_history_table_a_database_url_names_is_the_runners(tmp_path: Path) -> None:
    # database/postgres's `x-migrations-table`: a live database then holds that table, which drift
    # must leave out as it leaves out schema_migrations.
    root = repository(tmp_path, {
        "Makefile": 'migrate:\n\tmigrate -path migrations -database "postgres://db/app?sslmode=disable&x-migrations-table=app_versions" up\n',
        "migrations/1_init.up.sql": "create table t (a int);\n",
    })
    found = discover(root / "migrations", repo_root=root)
    assert layout_named(found.format).history_tables(found.directory) == {"public.schema_migrations",
                                                                          "public.app_versions"}


def test_a_template_the_projects_code_renders_is_not_replayed(tmp_path: Path) -> None:
    # mattermost/focalboard renders its mattermost/morph migrations with Go's text/template before
    # morph runs them: replayed as written, each failed with a syntax error at `{` its runner never meets.
    write_files(tmp_path, {
        "migrations/000001_init.up.sql": "CREATE TABLE IF NOT EXISTS {{.prefix}}blocks (\n  id VARCHAR(36),\n"
                                         "  fields {{if .postgres}}JSON{{else}}TEXT{{end}}\n);\n",
        "migrations/000001_init.down.sql": "DROP TABLE {{.prefix}}blocks;\n",
        "migrations/000002_root.up.sql": '{{- /* addColumnIfNeeded tableName columnName */ -}}\n'
                                         '{{ addColumnIfNeeded "blocks" "root_id" "varchar(36)" ""}}\n',
        # Braces in a string, a quoted name, a dollar-quoted body or a comment are the SQL's own.
        "migrations/000003_plain.up.sql": "-- {{ not a template }}\nCREATE TABLE notes (body text DEFAULT '{{x}}',"
                                          ' "{{y}}" int);\nCREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT'
                                          " '{%%}' $$;\n",
        "migrations/000003_plain.down.sql": "DROP TABLE notes; DROP FUNCTION f();\n",
    })
    found = discover(tmp_path, repo_root=tmp_path)
    reasons = {m.version: (m.skip_reason, m.down_skip_reason) for m in found.migrations}
    assert reasons["000001"][0] == (
        "not replayed: line 1 is a template action, {{.prefix}}, outside any SQL string, which the project's code fills"
        " in before its runner runs the file: give the values its template reads (prefix, postgres) with --var"
        " NAME=VALUE (or vars: in the config)")
    assert reasons["000001"][1] is not None and "{{.prefix}}" in reasons["000001"][1]
    assert reasons["000002"][0] == (
        'not replayed: line 2 is a template action, {{addColumnIfNeeded "blocks" "root_id" "varchar(36)" ""}}, which'
        " the project's code fills in before its runner runs the file with a function of the project's own: not"
        " rendered here")
    # With the values its code gives it, the template is rendered as text/template renders it.
    given = discover(tmp_path, repo_root=tmp_path, values={"prefix": "fb_", "postgres": "true"})
    [init] = [m for m in given.migrations if m.version == "000001"]
    assert init.skip_reason is None and init.up is not None
    assert init.up.sql == "CREATE TABLE IF NOT EXISTS fb_blocks (\n  id VARCHAR(36),\n  fields JSON\n);\n"
    assert init.down is not None and init.down.sql == "DROP TABLE fb_blocks;\n"
    assert reasons["000003"] == (None, None)


FIDER = {
    "go.mod": "module github.com/getfider/fider\n\nrequire github.com/lib/pq v1.10.9\n",
    "migrations/201701261850_create_tenants.up.sql": "create table tenants (id serial primary key);\n",
    "migrations/201701281131_rename_domain.up.sql": "alter table tenants add column domain text;\n",
    "migrations/201806191904_create_logs.sql": "create table logs (id serial primary key);\n",
    "migrations/202406111146_add_posts_index.sql": "create index logs_id on logs (id);\n",
}


def test_a_projects_own_runner_of_every_numbered_file_is_not_golang_migrate(tmp_path: Path) -> None:
    # getfider/fider's dbx runs every `<version>_<name>.sql` of its directory, `.up.sql` or not, and
    # its go.mod requires no golang-migrate: read as golang-migrate's, the 49 newer files were
    # "not a migration" and were never replayed.
    found = discover(repository(tmp_path / "fider", FIDER) / "migrations", repo_root=tmp_path / "fider")
    assert found.format == "numbered"
    assert [m.id for m in found.migrations] == ["201701261850_create_tenants", "201701281131_rename_domain",
                                                "201806191904_create_logs", "202406111146_add_posts_index"]
    # Where the repository runs golang-migrate (its CLI in a Makefile), the files it ignores are named.
    cli = repository(tmp_path / "cli", {**FIDER, "Makefile": "migrate:\n\tmigrate -path migrations -database $(DB) up\n"})
    found = discover(cli / "migrations", repo_root=cli)
    assert found.format == "golang-migrate"
    assert {s.path.name for s in found.stray_files} == {"201806191904_create_logs.sql", "202406111146_add_posts_index.sql"}
