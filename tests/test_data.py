"""The data family (issue 11): the rows that existed before a migration survive its rollback.

Each kind of loss is a fixture project that must fail its migration's `data` case, naming the
table and the column; each clean pattern must pass. Through the CLI, on a real PostgreSQL, with
rows generated from the catalog.
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.servers.base import Database

BASE = {
    "migrations/20250101000000_base.sql": (
        "create table users (id serial primary key, email text not null unique, phone varchar(20), score numeric(8,2));\n"
        "create table clinics (id int primary key, name text not null);\n"
        "create table appointments (id int primary key, clinic_id int not null references clinics on delete cascade,"
        " at date);\n"
        "create table events (kind text, payload jsonb);\n"
    ),
    "migrations/20250101000000_base_rollback.sql": "drop table events, appointments, clinics, users;\n",
}
CHANGE = "20250102000000_change"


def check(pg_server: Database, tmp_path: Path, up: str, down: str | None, *extra: str,
          base: dict[str, str] = BASE) -> tuple[int, dict[str, ET.Element]]:
    files = {**base, f"migrations/{CHANGE}.sql": up}
    if down is not None:
        files[f"migrations/{CHANGE}_rollback.sql"] = down
    root = write_files(tmp_path / "repo", files)
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q", *extra])
    cases = {c.attrib["classname"].removeprefix("migration_check."): c for c in ET.parse(report).getroot().iter("testcase")
             if c.attrib["name"] == CHANGE}
    return code, cases


LOSSES = {
    "dropped and re-added column": (
        "alter table users drop column phone;\n", "alter table users add column phone varchar(20);\n",
        "table public.users: 4 of 5 rows changed in column phone (e.g. id=1: '555-0101' became NULL)"),
    "rollback that deletes, cascading": (
        "alter table clinics add column city text;\n", "alter table clinics drop column city;\ndelete from clinics;\n",
        "table public.appointments: 5 of 5 rows missing (e.g. id=1); table public.clinics: 5 of 5 rows missing (e.g. id=1)"),
    "up that rewrites values with an empty down": (
        "update users set email = lower(email) || '.old';\n", "",
        "table public.users: 5 of 5 rows changed in column email (e.g. id=1: 'user1@example.com' became"
        " 'user1@example.com.old')"),
    "narrowing type change": (
        "alter table users alter column score type numeric(8,0);\n", "alter table users alter column score type numeric(8,2);\n",
        "table public.users: 4 of 5 rows changed in column score (e.g. id=1: '1.50' became '2.00')"),
    # A table without a key names a row by its columns (tolgee's api_key_scopes_enum read `{1,1}`).
    "rollback that recreates a table": (
        "drop table events;\n", "create table events (kind text, payload jsonb);\n",
        "table public.events: 5 of 5 rows missing (e.g. (kind, payload)=("),
    "dropped table, rollback that does not name it": (
        "drop table events;\n", "", "table public.events: the table is gone, with its 5 rows"),
    "orphans through session_replication_role": (
        "select 1;\n", "set session_replication_role = replica;\ndelete from clinics where id = 1;\n",
        "table public.clinics: 1 of 5 rows missing (e.g. id=1)"),
}


@pytest.mark.parametrize("name", LOSSES)
def test_each_kind_of_data_loss_fails_its_data_case(pg_server: Database, tmp_path: Path, name: str) -> None:
    up, down, expected = LOSSES[name]
    code, cases = check(pg_server, tmp_path, up, down)
    failure = cases["data"].find("failure")
    assert code == 1 and failure is not None, name
    assert expected in failure.attrib["message"]
    assert f"migrations/{CHANGE}" in cases["data"].attrib["file"]
    assert "the rollback does not give back the rows the up found" in failure.attrib["message"]


def test_a_rollback_that_keeps_the_rows_the_up_inserted_says_so(pg_server: Database, tmp_path: Path) -> None:
    # Seed rows with a do-nothing rollback (seen on a real goose project): nothing is lost, but the
    # rollback is no inverse, and the up run again inserts them twice.
    code, cases = check(pg_server, tmp_path, "insert into clinics values (100, 'north'), (101, 'south');\n", "select 1;\n")
    message = cases["data"].find("failure").attrib["message"]
    assert code == 1
    assert message.startswith("the rollback leaves the rows the up added: table public.clinics: 2 rows that were not there")
    assert "Delete them in the rollback; if they may stay, confirm it in the migration" in message


def test_one_row_the_rollback_misses_by_a_typo(pg_server: Database, tmp_path: Path) -> None:
    # Plume-org/Plume's down.sql deletes 'Federared feed': the other row it inserted goes.
    up = "insert into clinics values (100, 'Local feed'), (101, 'Federated feed');\n"
    down = "delete from clinics where name = 'Local feed';\ndelete from clinics where name = 'Federared feed';\n"
    code, cases = check(pg_server, tmp_path, up, down)
    message = cases["data"].find("failure").attrib["message"]
    assert code == 1
    assert message.startswith("the rollback leaves the rows the up added: table public.clinics: 1 row that was not there"
                              " (e.g. id=101)"), message


def test_rows_a_function_of_the_project_writes_are_compared_too(pg_server: Database, tmp_path: Path) -> None:
    # The UPDATE names users only; the function it runs on every row writes events.
    up = ("create function log_email(e text) returns text language plpgsql as $$\n"
          "begin insert into events (kind) values (e); return e; end $$;\n"
          "update users set email = log_email(email);\n")
    code, cases = check(pg_server, tmp_path, up, "drop function log_email(text);\n")
    message = cases["data"].find("failure").attrib["message"]
    assert code == 1
    assert message.startswith("the rollback leaves the rows the up added: table public.events: 5 rows that were not there")


def test_orphans_also_fail_the_integrity_case(pg_server: Database, tmp_path: Path) -> None:
    up, down, _ = LOSSES["orphans through session_replication_role"]
    _, cases = check(pg_server, tmp_path, up, down)
    failure = cases["integrity"].find("failure")
    assert failure is not None
    assert "constraint appointments_clinic_id_fkey on public.appointments" in failure.attrib["message"]


TEAMS = {
    "migrations/20250101000000_base.sql": (
        "create table teams (id int primary key, name text);\n"
        "create table members (id int primary key, team_id int references teams);\n"  # NO ACTION
        "create table badges (id int primary key, member_id int references members on delete cascade);\n"
    ),
    "migrations/20250101000000_base_rollback.sql": "drop table badges, members, teams;\n",
}


def test_a_truncate_cascade_loses_the_rows_of_tables_a_no_action_key_reaches(pg_server: Database, tmp_path: Path) -> None:
    # A key without a writing action keeps a table out of the copies (its rows cannot change when
    # its parent's do), but TRUNCATE ... CASCADE empties it anyway: it is compared then.
    code, cases = check(pg_server, tmp_path, "alter table teams add column city text;\n",
                        "alter table teams drop column city;\ntruncate teams cascade;\n", base=TEAMS)
    failure = cases["data"].find("failure")
    assert code == 1 and failure is not None
    assert ("table public.badges: 5 of 5 rows missing (e.g. id=1); table public.members: 5 of 5 rows missing (e.g. id=1);"
            " table public.teams: 5 of 5 rows missing (e.g. id=1)") in failure.attrib["message"]
    code, cases = check(pg_server, tmp_path, "alter table teams add column city text;\n",
                        "alter table teams drop column city;\n", base=TEAMS)
    assert code == 0 and cases["data"].find("failure") is None


CLEAN = {
    "add and drop a column": ("alter table users add column nickname text;\n", "alter table users drop column nickname;\n"),
    "rename and rename back": ("alter table users rename column phone to mobile;\n",
                               "alter table users rename column mobile to phone;\n"),
    "widen and narrow back": ("alter table users alter column phone type varchar(200);\n",
                              "alter table users alter column phone type varchar(20);\n"),
    "new table dropped by its rollback": ("create table tags (id int primary key, user_id int references users);\n",
                                          "drop table tags;\n"),
    "backfill of a new column": ("alter table users add column domain text;\nupdate users set domain = split_part(email, '@', 2);\n",
                                 "alter table users drop column domain;\n"),
    "rename a table and back": ("alter table events rename to audit_events;\n", "alter table audit_events rename to events;\n"),
}


@pytest.mark.parametrize("name", CLEAN)
def test_clean_patterns_pass_the_data_and_integrity_cases(pg_server: Database, tmp_path: Path, name: str) -> None:
    up, down = CLEAN[name]
    code, cases = check(pg_server, tmp_path, up, down)
    for family in ("data", "integrity", "roundtrip"):
        assert cases[family].find("failure") is None and cases[family].find("skipped") is None, (name, family)
    assert code == 0


def test_a_confirmed_loss_passes_with_its_reason(pg_server: Database, tmp_path: Path) -> None:
    up = '-- migration-check: allow drop-column,data-loss "phones moved to users_phone_archive"\nalter table users drop column phone;\n'
    code, cases = check(pg_server, tmp_path, up, "alter table users add column phone varchar(20);\n")
    assert code == 0
    case = cases["data"]
    assert case.find("failure") is None
    assert "data loss confirmed: phones moved to users_phone_archive" in (case.findtext("system-out") or "")


def test_an_unused_confirmation_is_reported_at_its_line(pg_server: Database, tmp_path: Path) -> None:
    up = "alter table users add column nickname text;\n-- migration-check: allow data-loss \"nothing is lost\"\n"
    code, cases = check(pg_server, tmp_path, up, "alter table users drop column nickname;\n", "--fail-on", "warning")
    failure = cases["data"].find("failure")
    assert code == 1 and failure is not None
    assert f"migrations/{CHANGE}.sql:2: unused confirmation" in failure.attrib["message"]


def test_a_confirmation_without_a_reason_does_not_confirm(pg_server: Database, tmp_path: Path) -> None:
    up = "-- migration-check: allow data-loss\nalter table users drop column phone;\n"
    code, cases = check(pg_server, tmp_path, up, "alter table users add column phone varchar(20);\n")
    failure = cases["data"].find("failure")
    assert code == 1 and failure is not None
    assert "gives no reason" in failure.attrib["message"]


def test_an_up_that_fails_on_rows_warns_and_the_schema_verdicts_stay(pg_server: Database, tmp_path: Path) -> None:
    up, down = "alter table users add column nick text not null;\n", "alter table users drop column nick;\n"
    code, cases = check(pg_server, tmp_path, up, down)
    warning = cases["data"].findtext("system-out") or ""
    assert cases["data"].find("failure") is None  # a warning: the generated rows may not be production's
    assert warning.startswith("warning: the up fails while the tables hold rows")
    assert 'column "nick" of relation "users" contains null values' in warning
    for family in ("apply", "rollback", "roundtrip", "reapply"):
        assert cases[family].find("failure") is None, family


LATER_KEY_BASE = {
    "migrations/20250101000000_base.sql": (
        'create table "User" (uid text primary key, email text not null);\n'
        'create table "Shortcode" (id text primary key, "creatorUid" text not null, "ownerRef" varchar(40));\n'),
    "migrations/20250101000000_base_rollback.sql": 'drop table "Shortcode", "User";\n',
}


def test_a_key_a_later_migration_adds_finds_rows_that_meet_it(pg_server: Database, tmp_path: Path) -> None:
    # hoppscotch's embeds_addition (Prisma): a foreign key added to a column that held user ids all
    # along. The generated rows give that column the parent's keys, so the up runs with rows (it
    # failed on them, 23503, and was judged on empty tables), and the data check has rows to compare.
    up = ('ALTER TABLE "Shortcode" ADD CONSTRAINT "Shortcode_creatorUid_fkey" FOREIGN KEY ("creatorUid")'
          ' REFERENCES "User"("uid") ON DELETE SET NULL ON UPDATE CASCADE;\n')
    down = 'ALTER TABLE "Shortcode" DROP CONSTRAINT "Shortcode_creatorUid_fkey";\n'
    code, cases = check(pg_server, tmp_path, up, down, base=LATER_KEY_BASE)
    assert code == 0
    assert "fails while the tables hold rows" not in (cases["data"].findtext("system-out") or "")
    # Where the column's type is not the parent's (varchar(40) against text), its own values stay:
    # the key then fails on them, as before, and says so.
    up = 'ALTER TABLE "Shortcode" ADD CONSTRAINT owner FOREIGN KEY ("ownerRef") REFERENCES "User"(uid);\n'
    code, cases = check(pg_server, tmp_path / "other", up, 'ALTER TABLE "Shortcode" DROP CONSTRAINT owner;\n',
                        base=LATER_KEY_BASE)
    warning = cases["data"].findtext("system-out") or ""
    assert warning.startswith("warning: the up fails while the tables hold rows") and "23503" in warning


def test_an_up_whose_code_builds_statements_from_rows_warns(pg_server: Database, tmp_path: Path) -> None:
    # As Tamarou/Registry's migrations do: a schema per tenant, named by a row. The generated rows
    # name schemas that do not exist; on production's rows the loop works.
    up = ("do $$ declare r record; begin for r in select name from clinics loop\n"
          "  execute format('create table %I.visits (id int)', r.name);\nend loop; end $$;\n"
          "alter table users add column nick text;\n")
    code, cases = check(pg_server, tmp_path, up, "alter table users drop column nick;\n")
    warning = cases["data"].findtext("system-out") or ""
    assert cases["data"].find("failure") is None
    assert warning.startswith("warning: the up fails while the tables hold rows") and "3F000" in warning
    for family in ("apply", "rollback", "roundtrip", "reapply"):
        assert cases[family].find("failure") is None, family


def test_an_alter_after_updating_rows_with_deferred_key_checks_pending_warns(pg_server: Database, tmp_path: Path) -> None:
    # moonklabs/sprintable: an UPDATE of rows whose deferred foreign key checks are still pending,
    # then an ALTER TABLE: "cannot ALTER TABLE because it has pending trigger events" (55006), which
    # only rows cause.
    base = {**BASE, "migrations/20250101000001_deferred.sql": (
        "create table visits (id int primary key, clinic_id int references clinics deferrable initially deferred,"
        " status text);\n"), "migrations/20250101000001_deferred_rollback.sql": "drop table visits;\n"}
    up = "update visits set clinic_id = (select max(id) from clinics);\nalter table visits add column closed_at timestamptz;\n"
    code, cases = check(pg_server, tmp_path, up, "alter table visits drop column closed_at;\n", base=base)
    warning = cases["data"].findtext("system-out") or ""
    assert warning.startswith("warning: the up fails while the tables hold rows") and "55006" in warning, warning
    for family in ("apply", "rollback", "roundtrip", "reapply"):
        assert cases[family].find("failure") is None, family


def test_hasuras_stamp_through_a_copy_of_new_is_trigger_code_too(pg_server: Database, tmp_path: Path) -> None:
    # MadNovOrg/test-blacksmith (Hasura's set_current_timestamp_updated_at): `_new := NEW;
    # _new."updated_at" = NOW(); RETURN _new;`. An exact inverse of an UPDATE failed on updated_at.
    base = {"migrations/20250101000000_base.sql": (
                "create table course (id int primary key, price numeric, updated_at timestamptz default now());\n"
                "create function set_current_timestamp_updated_at() returns trigger language plpgsql as $$\n"
                "declare _new record; begin _new := NEW; _new.\"updated_at\" = NOW(); return _new; end $$;\n"
                "create trigger set_course_updated_at before update on course for each row"
                " execute procedure set_current_timestamp_updated_at();\n"),
            "migrations/20250101000000_base_rollback.sql": "drop table course;\ndrop function set_current_timestamp_updated_at();\n"}
    code, cases = check(pg_server, tmp_path, "update course set price = price + 1;\n", "update course set price = price - 1;\n",
                        base=base)
    assert code == 0 and cases["data"].find("failure") is None, ET.tostring(cases["data"], encoding="unicode")
    assert "rewritten by trigger code in updated_at" in (cases["data"].findtext("system-out") or "")


def test_columns_that_trigger_code_stamps_are_not_the_rollbacks_to_give_back(pg_server: Database,
                                                                            tmp_path: Path) -> None:
    # As ente-io/ente's migrations do: a BEFORE UPDATE trigger stamps updated_at, and another
    # table's trigger keeps clinics.touched in step; the up's backfill fires both.
    triggers = (
        "alter table users add column updated_at timestamptz;\nalter table clinics add column touched timestamptz;\n"
        "create function stamp() returns trigger language plpgsql as $$begin NEW.updated_at := now(); return NEW; end$$;\n"
        "create trigger users_stamp before update on users for each row execute function stamp();\n"
        "create function touch() returns trigger language plpgsql as $$begin\n"
        "  update clinics set touched = now() where id = NEW.clinic_id; return NEW; end$$;\n"
        "create trigger appointments_touch after update on appointments for each row execute function touch();\n")
    files = {**BASE, "migrations/20250101000001_stamps.sql": triggers,
             "migrations/20250101000001_stamps_rollback.sql": (
                 "drop trigger appointments_touch on appointments; drop function touch();\n"
                 "drop trigger users_stamp on users; drop function stamp();\n"
                 "alter table clinics drop column touched;\nalter table users drop column updated_at;\n"),
             f"migrations/{CHANGE}.sql": ("alter table users add column vip boolean;\nupdate users set vip = false;\n"
                                          "alter table appointments add column seen boolean;\n"
                                          "update appointments set seen = true;\n"),
             f"migrations/{CHANGE}_rollback.sql": "alter table users drop column vip;\nalter table appointments drop column seen;\n"}
    root = write_files(tmp_path / "repo", files)
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    [case] = [c for c in ET.parse(report).getroot().iter("testcase")
              if c.attrib["name"] == CHANGE and c.attrib["classname"] == "migration_check.data"]
    assert code == 0 and case.find("failure") is None, ET.tostring(case, encoding="unicode")
    told = case.findtext("system-out") or ""
    assert "table public.users: 5 rows rewritten by trigger code in updated_at (trigger users_stamp)" in told
    assert "table public.clinics: " in told and "in touched (trigger appointments_touch)" in told


def test_no_data_turns_the_data_families_off_and_keeps_the_schema_verdicts(pg_server: Database, tmp_path: Path) -> None:
    up, down, _ = LOSSES["dropped and re-added column"]
    _, with_data = check(pg_server, tmp_path / "a", up, down)
    _, without = check(pg_server, tmp_path / "b", up, down, "--no-data")
    assert with_data["data"].find("failure") is not None
    assert "data" not in without and "integrity" not in without
    for family in ("apply", "rollback", "roundtrip", "reapply"):
        assert (with_data[family].find("failure") is None) == (without[family].find("failure") is None)


def test_what_the_up_did_to_existing_rows_is_told(pg_server: Database, tmp_path: Path) -> None:
    up = '-- migration-check: allow data-loss "archived"\ndelete from clinics where id > 3;\nalter table users drop column phone;\n'
    _, cases = check(pg_server, tmp_path, up, "alter table users add column phone varchar(20);\n")
    text = ET.tostring(cases["data"], encoding="unicode")
    assert "table public.users: column phone is gone, with its 4 non-null values" in text
    assert "table public.clinics: 2 of 5 rows missing" in text


def test_seed_rows_are_loaded_where_they_fit_and_checked(pg_server: Database, tmp_path: Path) -> None:
    seed = tmp_path / "repo" / "seed.sql"
    seed.parent.mkdir(parents=True)
    # A seed's DROP ... IF EXISTS needs no table: it loads all the same.
    seed.write_text("drop table if exists staging_users;\n"
                    "insert into users (id, email, phone) values (100, 'ada@example.org', '555-9999');\n")
    code, cases = check(pg_server, tmp_path, "alter table users drop column phone;\n",
                        "alter table users add column phone varchar(20);\n", "--seed", str(seed))
    failure = cases["data"].find("failure")
    assert code == 1 and failure is not None
    assert "5 of 6 rows changed in column phone" in failure.attrib["message"]
    report = ET.parse(tmp_path / "report.xml").getroot()
    [seed_case] = [c for c in report.iter("testcase") if c.attrib["name"] == "seed seed.sql"]
    assert seed_case.find("failure") is None


def test_a_seed_that_never_loads_fails_at_its_line(pg_server: Database, tmp_path: Path) -> None:
    seed = tmp_path / "repo" / "seed.sql"
    seed.parent.mkdir(parents=True)
    seed.write_text("\ninsert into users (id, email, nope) values (1, 'a', 'b');\n")
    code, _ = check(pg_server, tmp_path, "select 1;\n", "select 1;\n", "--seed", str(seed))
    report = ET.parse(tmp_path / "report.xml").getroot()
    [seed_case] = [c for c in report.iter("testcase") if c.attrib["name"] == "seed seed.sql"]
    failure = seed_case.find("failure")
    assert code == 1 and failure is not None
    assert 'seed.sql:2:' in failure.attrib["message"] and 'column "nope" of relation "users" does not exist' in failure.attrib["message"]


def test_a_seed_for_tables_a_migration_that_did_not_apply_makes_is_not_judged(pg_server: Database,
                                                                               tmp_path: Path) -> None:
    # mckaywrigley/chatbot-ui: its first migration needs an extension this server lacks, so the
    # table its seed fills is never made here; the run's finding is that migration's, not the seed's.
    root = write_files(tmp_path / "repo", {
        "migrations/20250101000000_setup.sql": "create extension no_such_extension;\ncreate table profiles (id int primary key);\n",
        "migrations/20250101000000_setup_rollback.sql": "drop table profiles;\ndrop extension no_such_extension;\n",
        "migrations/20250102000000_workspaces.sql": "create table workspaces (id int, owner int references profiles);\n",
        "migrations/20250102000000_workspaces_rollback.sql": "drop table workspaces;\n",
        "seed.sql": "insert into workspaces values (1);\n",
    })
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    report = tmp_path / "report.xml"
    code = main(["check", str(root / "migrations"), "--database-url", pg_server.conninfo, "--seed",
                 str(root / "seed.sql"), "--junit-xml", str(report), "-q"])
    [seed_case] = [c for c in ET.parse(report).getroot().iter("testcase") if c.attrib["name"] == "seed seed.sql"]
    assert code == 1 and seed_case.find("failure") is None
    assert seed_case.find("skipped").attrib["message"] == (  # type: ignore[union-attr]
        "not judged: it names workspaces, made by migrations/20250102000000_workspaces.sql:1, a migration that did"
        " not apply here")


def test_a_missing_seed_file_is_a_usage_error(pg_server: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = write_files(tmp_path / "repo", BASE)
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--seed", "nowhere.sql", "-q"])
    assert code == 2
    assert "error: --seed nowhere.sql: no such file" in capsys.readouterr().out


def test_an_up_that_fails_without_rows_too_is_the_apply_failure_alone(pg_server: Database, tmp_path: Path) -> None:
    code, cases = check(pg_server, tmp_path, "insert into clinics values (100, 'a'), (100, 'b');\n", "select 1;\n")
    assert code == 1
    assert cases["apply"].find("failure") is not None
    assert cases["data"].find("skipped") is not None and not cases["data"].findtext("system-out")


def test_an_up_whose_objects_follow_the_rows_is_compared_with_itself_without_them(pg_server: Database,
                                                                                    tmp_path: Path) -> None:
    # A loop over the tenants makes a schema for each (andrewah64/base-app-db makes a role per
    # tenant); the rollback fails on the generated rows, so the rollback and the up again are judged
    # without them: the up again is compared with the up as it runs without them, not with the five
    # schemas it made for the generated tenants.
    base = {"migrations/20250101000000_base.sql": ("create table tenants (id serial primary key);\n"
                                                   "create table members (tenant_id int not null references tenants);\n"),
            "migrations/20250101000000_base_rollback.sql": "drop table members, tenants;\n"}
    loop = ("do $$ declare t record; begin for t in select id from tenants loop"
            " execute format('{} schema %I', 'tenant_' || t.id); end loop; end $$;\n")
    code, cases = check(pg_server, tmp_path, loop.format("create"), loop.format("drop") + "delete from tenants;\n",
                        base=base)
    assert code == 0, {name: ET.tostring(case, encoding="unicode") for name, case in cases.items()}
    assert cases["reapply"].find("failure") is None and cases["roundtrip"].find("failure") is None
    warning = cases["data"].find("system-out")
    assert warning is not None and "the rollback fails while the tables hold rows" in (warning.text or "")
