"""The locks family (issue 12): the locks and rewrites an up really takes on tables that existed
before it, observed in a real PostgreSQL, with the statement's line; a rewrite under ACCESS
EXCLUSIVE fails until it is confirmed. And the static rules against what was observed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.families.lock_reach import other_names
from migration_check.model import Script
from migration_check.servers.base import Database
from migration_check.sql import split_script

BASE = {
    "migrations/20250101000000_base.sql": (
        "create table appointments (id int primary key, clinic_id int, note varchar(20), amount int, at timestamp);\n"
        "create table clinics (id int primary key);\n"
        "create index appointments_clinic_idx on appointments (clinic_id);\n"
    ),
    "migrations/20250101000000_base_rollback.sql": "drop table appointments, clinics;\n",
}
CHANGE = "20250102000000_change"


def check(pg_server: Database, tmp_path: Path, up: str, down: str) -> tuple[int, list[ET.Element]]:
    root = write_files(tmp_path / "repo", {**BASE, f"migrations/{CHANGE}.sql": up, f"migrations/{CHANGE}_rollback.sql": down})
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    return code, list(ET.parse(report).getroot().iter("testcase"))


def locks_case(cases: list[ET.Element]) -> ET.Element:
    [case] = [c for c in cases if c.attrib["classname"] == "migration_check.locks" and c.attrib["name"] == CHANGE]
    return case


def text(case: ET.Element) -> str:
    failure = case.find("failure")
    return failure.attrib["message"] if failure is not None else case.findtext("system-out") or ""


OBSERVED = {
    # A type change that rewrites, and one that does not: only PostgreSQL knows.
    "int to bigint rewrites": ("-- the key outgrows int\nalter table appointments alter column id type bigint;\n", "alter table appointments alter column id type int;\n",
                               True, "public.appointments: ACCESS EXCLUSIVE (blocks reads and writes), rewritten by line 2"
                                     " (alter table appointments alter column id type bigint)"),
    # In one transaction the rewrite is pinned on the statement a rule says rewrites, not the first one.
    "the rewriting statement of several": (
        "alter table appointments add column flag boolean not null default false;\n"
        "alter table appointments alter column amount type bigint;\n",
        "alter table appointments alter column amount type int;\nalter table appointments drop column flag;\n",
        True, "rewritten by line 2 (alter table appointments alter column amount type bigint)"),
    # One ALTER TABLE of several commands (target/goalert): the command that rewrites is shown, not the first.
    "the rewriting command of one ALTER TABLE": (
        "alter table appointments add column flag boolean, alter column amount type bigint;\n",
        "alter table appointments alter column amount type int, drop column flag;\n",
        True, "rewritten by line 1 (ALTER TABLE appointments ALTER COLUMN amount TYPE bigint)"),
    # kalbasit/ncps: of the commands a rule says may rewrite, the one that does: varchar to text is
    # binary-coercible (PostgreSQL relabels the column), int to bigint is not.
    "the command that rewrites, after one PostgreSQL only relabels": (
        "alter table appointments alter column note type text, alter column amount type bigint;\n",
        "alter table appointments alter column amount type int, alter column note type varchar(20);\n",
        True, "rewritten by line 1 (ALTER TABLE appointments ALTER COLUMN amount TYPE bigint)"),
    # supabase/storage: the ALTER TABLE that rewrites is inside a DO block, which no statement name shows.
    "a rewrite inside a DO block": (
        "select 1;\ndo $$ begin if true then alter table appointments alter column amount type bigint; end if; end $$;\n",
        "alter table appointments alter column amount type int;\n",
        True, "rewritten by line 2 (do $$ begin if true then alter table appointments alter c...)"),
    "widening a varchar does not": ("alter table appointments alter column note type varchar(50);\n",
                                    "alter table appointments alter column note type varchar(20);\n",
                                    False, "public.appointments: ACCESS EXCLUSIVE (blocks reads and writes) taken by line 1"),
    "a volatile default rewrites": ("alter table appointments add column token uuid default gen_random_uuid();\n",
                                    "alter table appointments drop column token;\n", True, "rewritten by line 1"),
    "a constant default does not": ("alter table appointments add column active boolean not null default true;\n",
                                    "alter table appointments drop column active;\n",
                                    False, "public.appointments: ACCESS EXCLUSIVE (blocks reads and writes) taken by line 1"),
    "a blocking index build": ("create index appointments_amount_idx on appointments (amount);\n",
                               "drop index appointments_amount_idx;\n", False, "public.appointments: SHARE (blocks writes)"),
    "a concurrent index build": ("create index concurrently appointments_amount_idx on appointments (amount);\n",
                                 "drop index concurrently appointments_amount_idx;\n", False, "locks not observed at line 1"),
    # Statement by statement (the file opts out of a transaction): each lock is seen, with its statement.
    "outside a transaction, one statement at a time": (
        "create index concurrently appointments_amount_idx on appointments (amount);\n"
        "alter table appointments alter column id type bigint;\n",
        "drop index concurrently appointments_amount_idx;\nalter table appointments alter column id type int;\n",
        True, "public.appointments: ACCESS EXCLUSIVE (blocks reads and writes), rewritten by line 2"),
    # hatchet-dev/hatchet: TRUNCATE gives the table a new file, but copies nothing (the data family
    # judges the rows it drops).
    "a truncate empties, it does not copy": ("truncate appointments;\n", "select 1;\n", False,
                                            "public.appointments: ACCESS EXCLUSIVE (blocks reads and writes), emptied"
                                            " by line 1 (truncate appointments)"),
    # mild-blue/txmatching: `TRUNCATE TABLE config CASCADE` empties the tables that reference
    # config too, which no statement names ("public.pairing_result: ... rewritten", at no line).
    "a truncate's cascade empties the tables that reference it": (
        "alter table appointments add foreign key (clinic_id) references clinics;\ntruncate clinics cascade;\n",
        "alter table appointments drop constraint appointments_clinic_id_fkey;\n", False,
        "public.appointments: ACCESS EXCLUSIVE (blocks reads and writes), emptied by line 2 (truncate clinics cascade)"),
    # What a drop or a rename names is resolved by its name (lock_reach.py), not by reading every relation.
    "a dropped index locks its table": ("drop index appointments_clinic_idx;\n",
                                        "create index appointments_clinic_idx on appointments (clinic_id);\n",
                                        False, "public.appointments: ACCESS EXCLUSIVE (blocks reads and writes)"),
    "a dropped table locks the table its key references": (
        "create table visits (id int primary key);\n"
        "alter table appointments add column visit_id int references visits;\n"
        "alter table appointments drop column visit_id;\ndrop table clinics, visits;\n",
        "create table clinics (id int primary key);\n", False,
        "public.appointments: ACCESS EXCLUSIVE (blocks reads and writes) taken by line 2"),
    # target/goalert: the statements after a RENAME name the table by its new name; the rewrite is
    # put on the statement that makes it, not on the RENAME.
    "a table renamed, then rewritten under its new name": (
        "alter table appointments rename to visits;\nalter table visits add column code text;\n"
        "alter table visits alter column amount type bigint;\n",
        "alter table visits alter column amount type int;\nalter table visits drop column code;\n"
        "alter table visits rename to appointments;\n",
        True, "public.appointments: ACCESS EXCLUSIVE (blocks reads and writes), rewritten by line 3"
              " (alter table visits alter column amount type bigint)"),
    # The file's own BEGIN ... COMMIT keeps the locks from being observed, but a rewrite of a table
    # holds ACCESS EXCLUSIVE whatever the transaction: it failed without BEGIN and passed with it.
    "a rewrite in the script's own transaction": (
        "begin;\nalter table appointments alter column id type bigint;\ncommit;\n",
        "alter table appointments alter column id type int;\n",
        True, "public.appointments: ACCESS EXCLUSIVE (blocks reads and writes) (not observed, but every rewrite of a"
              " table holds it), rewritten by line 2"),
    "a renamed table": ("alter table clinics rename to sites;\n", "alter table sites rename to clinics;\n",
                        False, "public.clinics: ACCESS EXCLUSIVE (blocks reads and writes) taken by line 1"),
    "a foreign key without NOT VALID": ("alter table appointments add foreign key (clinic_id) references clinics;\n",
                                        "alter table appointments drop constraint appointments_clinic_id_fkey;\n",
                                        False, "public.appointments: SHARE ROW EXCLUSIVE (blocks writes)"),
    "a foreign key NOT VALID, then validated": (
        "alter table appointments add foreign key (clinic_id) references clinics not valid;\n",
        "alter table appointments drop constraint appointments_clinic_id_fkey;\n",
        False, "public.appointments: SHARE ROW EXCLUSIVE (blocks writes)"),
}


@pytest.mark.parametrize("name", OBSERVED)
def test_observed_locks_and_rewrites(pg_server: Database, tmp_path: Path, name: str) -> None:
    up, down, fails, expected = OBSERVED[name]
    code, cases = check(pg_server, tmp_path, up, down)
    case = locks_case(cases)
    assert (case.find("failure") is not None) == fails, text(case)
    assert expected in text(case)
    if fails:
        named = re.search(r"rewritten by line (\d+)", expected)
        line = named[1] if named else str(up[:up.index("alter")].count("\n") + 1)
        assert code == 1 and case.attrib["line"] == line


def test_a_confirmed_rewrite_passes_with_its_reason(pg_server: Database, tmp_path: Path) -> None:
    up = '-- migration-check: allow table-rewrite "2,000 rows, in the maintenance window"\nalter table appointments alter column id type bigint;\n'
    code, cases = check(pg_server, tmp_path, up, "alter table appointments alter column id type int;\n")
    case = locks_case(cases)
    assert case.find("failure") is None
    assert "rewrite confirmed: 2,000 rows, in the maintenance window" in text(case)
    assert code == 0


def test_what_another_linter_acknowledges_passes_here(pg_server: Database, tmp_path: Path) -> None:
    # rust-lang/crates.io: diesel-guard's safety-assured block around a DROP COLUMN its team had
    # already stopped using failed here as MC002, "confirm the drop with a reason".
    up = ("-- safety-assured:start\n-- no reader selects note since the last release\n"
          "alter table appointments drop column note;\nalter table appointments alter column id type bigint;\n"
          "-- safety-assured:end\n-- squawk-ignore ban-drop-column\nalter table appointments drop column amount;\n"
          "-- squawk-ignore renaming-column\nalter table appointments drop column at;\n")
    down = ("alter table appointments alter column id type int, add column note varchar(20), add column amount int,"
            " add column at timestamp;\n")
    code, cases = check(pg_server, tmp_path, up, down)
    lint = {c.attrib["line"]: c for c in cases if c.attrib["name"] == f"{CHANGE}: MC002 drop-column"}
    assert "acknowledged by diesel-guard's safety-assured block, lines 1-5 (drop-column:" in text(lint["3"])
    assert "acknowledged by `-- squawk-ignore ban-drop-column` at line 6" in text(lint["7"])
    assert lint["3"].find("failure") is None and lint["7"].find("failure") is None
    assert lint["9"].find("failure") is not None  # squawk's comment there names another check
    case = locks_case(cases)
    assert case.find("failure") is None and "rewrite acknowledged by diesel-guard's safety-assured block" in text(case)
    assert code == 1


def test_the_observation_decides_a_static_guess(pg_server: Database, tmp_path: Path) -> None:
    up, down, _, _ = OBSERVED["widening a varchar does not"]
    _, cases = check(pg_server, tmp_path, up, down)
    [lint] = [c for c in cases if c.attrib["classname"] == "migration_check.lint" and "change-column-type" in c.attrib["name"]]
    assert lint.find("failure") is None
    assert "appointments was not rewritten" in (lint.findtext("system-out") or "")


def test_a_table_drop_fails_until_confirmed_with_a_reason(pg_server: Database, tmp_path: Path) -> None:
    code, cases = check(pg_server, tmp_path / "a", "drop table clinics;\n", "create table clinics (id int primary key);\n")
    [lint] = [c for c in cases if c.attrib["name"] == f"{CHANGE}: MC001 drop-table"]
    failure = lint.find("failure")
    assert code == 1 and failure is not None
    assert failure.attrib["message"].startswith(f"migrations/{CHANGE}.sql:1:1: MC001 drop-table: drops table clinics")
    confirmed = '-- migration-check: allow drop-table "clinics moved to the directory service"\ndrop table clinics;\n'
    code, cases = check(pg_server, tmp_path / "b", confirmed, "create table clinics (id int primary key);\n")
    [lint] = [c for c in cases if c.attrib["name"] == f"{CHANGE}: MC001 drop-table"]
    assert lint.find("failure") is None and "confirmed: clinics moved to the directory service" in (lint.findtext("system-out") or "")
    data = [c for c in cases if c.attrib["classname"] == "migration_check.data" and c.attrib["name"] == CHANGE][0]
    assert data.find("failure") is not None  # the rows are still lost: that is the data family's to confirm


def test_the_runners_history_table_is_the_runners(pg_server: Database, tmp_path: Path) -> None:
    # goharbor/harbor adds a column to golang-migrate's schema_migrations, whose own bookkeeping
    # truncates the table after each step: a new file that is not the migration's rewrite.
    root = write_files(tmp_path / "repo", {
        "migrations/0001_init.up.sql": "create table t (id int);\n",
        "migrations/0001_init.down.sql": "drop table t;\n",
        "migrations/0002_version.up.sql": "alter table schema_migrations add column data_version int;\n",
        "migrations/0002_version.down.sql": "alter table schema_migrations drop column data_version;\n",
    })
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    [case] = [c for c in ET.parse(report).getroot().iter("testcase")
              if c.attrib["classname"] == "migration_check.locks" and c.attrib["name"] == "0002_version"]
    assert case.find("failure") is None and code == 0


def test_a_partition_rewritten_by_a_statement_on_its_parent_names_that_statement(pg_server: Database,
                                                                              tmp_path: Path) -> None:
    # tensorzero/tensorzero: a type change on a partitioned table rewrites each partition, which the
    # statement never names.
    root = write_files(tmp_path / "repo", {
        "migrations/20250101000000_base.sql": ("create table events (id int, at date not null, amount int)"
                                               " partition by range (at);\ncreate table events_2025 partition of events"
                                               " for values from ('2025-01-01') to ('2026-01-01');\n"),
        "migrations/20250101000000_base_rollback.sql": "drop table events;\n",
        f"migrations/{CHANGE}.sql": "-- amounts outgrow int\nalter table events alter column amount type bigint;\n",
        f"migrations/{CHANGE}_rollback.sql": "alter table events alter column amount type int;\n",
    })
    report = tmp_path / "report.xml"
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"]) == 1
    case = locks_case(list(ET.parse(report).getroot().iter("testcase")))
    assert text(case).startswith("public.events_2025: ACCESS EXCLUSIVE (blocks reads and writes), rewritten by line 2"
                                 " (alter table events alter column amount type bigint)")
    assert case.attrib["line"] == "2"


def test_dropping_a_table_that_never_existed_drops_nothing(pg_server: Database, tmp_path: Path) -> None:
    # ever-gauzy's desktop knex migrations and medusa's start a new table with "drop table if exists":
    # no earlier migration made it, so nothing is dropped; a table that existed still fails the case.
    code, cases = check(pg_server, tmp_path, "drop table if exists ghosts;\ndrop table if exists clinics cascade;\n"
                                             "create table ghosts (id int);\n",
                        "drop table ghosts;\ncreate table clinics (id int primary key);\n")
    messages = [text(c) for c in cases if c.attrib["classname"] == "migration_check.lint" and c.attrib["name"].startswith(CHANGE)]
    dropped = [m for m in messages if "ghosts" in m]
    assert [m.splitlines()[0] for m in dropped] == [
        "observed: no table ghosts existed before this migration, so the statement dropped nothing"]
    assert any("drops table clinics" in m for m in messages) and code == 1


def test_dropping_a_schema_that_held_no_table_loses_no_rows(pg_server: Database, tmp_path: Path) -> None:
    # Graphile Migrate's first migration clears its schemas, to run again from scratch: none held a
    # table then. A schema that held one still fails the case, its quoted name read as PostgreSQL does.
    root = write_files(tmp_path / "repo", {
        "migrations/20250101000000_base.sql": ('create schema "Old Data";\ncreate table "Old Data".t (id int);\n'
                                               "create schema app_empty;\n"),
        "migrations/20250101000000_base_rollback.sql": 'drop schema "Old Data" cascade;\ndrop schema app_empty;\n',
        f"migrations/{CHANGE}.sql": ('drop schema if exists app_public cascade;\ndrop schema app_empty cascade;\n'
                                     'drop schema "Old Data" cascade;\n'),
        f"migrations/{CHANGE}_rollback.sql": ('create schema "Old Data";\ncreate table "Old Data".t (id int);\n'
                                              "create schema app_empty;\n"),
    })
    report = tmp_path / "report.xml"
    assert main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"]) == 1
    cases = [c for c in ET.parse(report).getroot().iter("testcase")
             if c.attrib["classname"] == "migration_check.lint" and c.attrib["name"].startswith(CHANGE)]
    verdicts = sorted((c.find("failure") is not None, text(c).splitlines()[0]) for c in cases)
    assert verdicts == [
        (False, "observed: no table was in schema app_empty before this migration (it was empty or did not exist),"
                " so the statement lost no rows"),
        (False, "observed: no table was in schema app_public before this migration (it was empty or did not exist),"
                " so the statement lost no rows"),
        (True, f"migrations/{CHANGE}.sql:3:1: MC003 drop-schema: drops schema Old Data and everything in it; confirm it"
               " with a reason (docs/rules.md#mc003-drop-schema)")]


def test_a_table_an_unreplayed_migration_may_have_made_is_not_taken_as_absent(pg_server: Database, tmp_path: Path) -> None:
    # dhis2's base schema is a Java migration the replay cannot run: a later "drop legacy table" drops
    # a table that exists in production, though not in the replay.
    root = write_files(tmp_path / "repo", {
        "src/main/resources/db/migration/V1__base.java": "class V1__base {}\n",
        "src/main/resources/db/migration/V2__drop_legacy.sql": "drop table if exists legacy;\n",
    })
    report = tmp_path / "report.xml"
    main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    messages = [text(c) for c in ET.parse(report).getroot().iter("testcase") if c.attrib["classname"] == "migration_check.lint"
                and "drop_legacy" in c.attrib["name"]]
    assert any("drops table legacy" in m for m in messages), messages


def test_without_rollbacks_each_migration_keeps_its_own_observations(pg_server: Database, tmp_path: Path) -> None:
    """In a forward-only project the next migration's before_up runs alongside the snapshot after
    this one's up, before this one's verdicts: what each family saw of an up stays that up's (the
    rewrite of appointments and the rows it changed are told on the migration that made them, not
    lost to the next one's observations of clinics)."""
    root = write_files(tmp_path / "repo", {
        "db/migration/V1__base.sql": BASE["migrations/20250101000000_base.sql"],
        "db/migration/V2__change.sql": "alter table appointments alter column id type bigint;\nupdate appointments set amount = 7;\n",
        "db/migration/V3__next.sql": "alter table clinics add column name text;\n",
        "db/migration/V4__last.sql": "create table rooms (id int primary key);\n",
    })
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    cases = {(c.attrib["classname"], c.attrib["name"]): c for c in ET.parse(report).getroot().iter("testcase")}
    assert code == 1
    change = text(cases[("migration_check.locks", "2_change")])
    assert "public.appointments: ACCESS EXCLUSIVE (blocks reads and writes), rewritten by line 1" in change
    assert "clinics" not in change
    following = text(cases[("migration_check.locks", "3_next")])
    assert "public.clinics: ACCESS EXCLUSIVE" in following and "appointments" not in following
    rows = cases[("migration_check.data", "2_change")].find("skipped")
    assert rows is not None and "table public.appointments:" in rows.attrib["message"]
    assert "changed in column amount" in rows.attrib["message"]
    assert "appointments" not in (cases[("migration_check.data", "3_next")].find("skipped").attrib["message"])  # type: ignore[union-attr]


def locks_of(pg_server: Database, tmp_path: Path, base: str, up: str, down: str) -> str:
    """The locks case's text of a change on a base of its own."""
    root = write_files(tmp_path / "repo", {
        "migrations/20250101000000_base.sql": base, "migrations/20250101000000_base_rollback.sql": "select 1;\n",
        f"migrations/{CHANGE}.sql": up, f"migrations/{CHANGE}_rollback.sql": down})
    report = tmp_path / "report.xml"
    main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    return text(locks_case(list(ET.parse(report).getroot().iter("testcase"))))


def test_a_dropped_table_locks_the_table_its_key_references(pg_server: Database, tmp_path: Path) -> None:
    """Dropping visits drops its foreign key's triggers on clinics, which no statement names."""
    base = "create table clinics (id int primary key);\ncreate table visits (id int primary key, clinic_id int references clinics);\n"
    assert locks_of(pg_server, tmp_path, base, "drop table visits;\n",
                    "create table visits (id int primary key, clinic_id int);\n") == (  # (the rollback names no clinics)
        "public.clinics: ACCESS EXCLUSIVE (blocks reads and writes) taken by line 1 (drop table visits);"
        " public.visits: ACCESS EXCLUSIVE (blocks reads and writes) taken by line 1 (drop table visits)")


def test_the_lock_of_a_dropped_table_is_put_on_its_drop_not_on_a_read_of_it(pg_server: Database, tmp_path: Path) -> None:
    """crates.io: `UPDATE emails ... FROM tokens` (ACCESS SHARE on tokens) was blamed for the ACCESS
    EXCLUSIVE of the later `DROP TABLE tokens`; a TRUNCATE, a LOCK TABLE and a RENAME take it too."""
    base = ("create table emails (id int primary key, token text);\ncreate table tokens (email_id int, token text);\n"
            "create table audits (id int);\ncreate table notes (id int);\ncreate table olds (id int);\n")
    up = ("select count(*) from audits, notes, olds;\n"
          "update emails set token = tokens.token from tokens where tokens.email_id = emails.id;\ndrop table tokens;\n"
          "truncate audits;\nlock table notes;\nalter table olds rename to news;\n")
    down = ("alter table news rename to olds;\n"
            "create table tokens (email_id int, token text);\ninsert into tokens select id, token from emails;\n")
    facts = locks_of(pg_server, tmp_path, base, up, down)
    assert "public.tokens: ACCESS EXCLUSIVE (blocks reads and writes) taken by line 3 (drop table tokens)" in facts
    assert "public.notes: ACCESS EXCLUSIVE (blocks reads and writes) taken by line 5 (lock table notes)" in facts
    assert "public.olds: ACCESS EXCLUSIVE (blocks reads and writes) taken by line 6 (alter table olds rename to news)" in facts
    assert "emptied by line 4 (truncate audits)" in facts


def test_a_foreign_key_dropped_beside_a_drop_locks_its_parent(pg_server: Database, tmp_path: Path) -> None:
    """inbox-zero: ALTER TABLE "Member" DROP CONSTRAINT "Member_userId_fkey" locks "User", which no statement names."""
    base = ("create table clinics (id int primary key);\n"
            "create table visits (id int primary key, clinic_id int constraint visits_clinic references clinics, at date);\n"
            "create index visits_at on visits (at);\n")
    up = "alter table visits drop constraint visits_clinic;\ndrop index visits_at;\n"
    down = "create index visits_at on visits (at);\n"  # (not naming clinics: prisma's migrations have no rollback)
    assert locks_of(pg_server, tmp_path, base, up, down).startswith(
        "public.clinics: ACCESS EXCLUSIVE (blocks reads and writes) taken by line 1 (alter table visits drop constraint"
        " visits_clinic)")


def test_the_lock_of_a_dropped_key_is_put_on_the_drop_not_on_a_later_key_to_the_same_table(
        pg_server: Database, tmp_path: Path) -> None:
    """documenso: the ACCESS EXCLUSIVE on "User" is the DROP CONSTRAINT's, not the later ADD CONSTRAINT's
    (a new foreign key takes SHARE ROW EXCLUSIVE on the table it references)."""
    base = ("create table clinics (id int primary key);\n"
            "create table visits (id int primary key, clinic_id int constraint visits_clinic references clinics);\n")
    up = ("alter table visits drop constraint visits_clinic;\nalter table visits add column note text;\n"
          "alter table visits add constraint visits_clinic_again foreign key (clinic_id) references clinics;\n")
    down = ("alter table visits drop constraint visits_clinic_again;\nalter table visits drop column note;\n"
            "alter table visits add constraint visits_clinic foreign key (clinic_id) references clinics;\n")
    assert locks_of(pg_server, tmp_path, base, up, down).startswith(
        "public.clinics: ACCESS EXCLUSIVE (blocks reads and writes) taken by line 1 (alter table visits drop constraint"
        " visits_clinic)")


def test_what_the_generated_rows_fire_is_not_the_ups(pg_server: Database, tmp_path: Path) -> None:
    """aredl: a trigger refreshes a materialized view when the row filler inserts; the lock family
    notes each relation's file once the rows are in, so the refresh is not told as the up's rewrite."""
    base = ("create table scores (id int primary key, points int);\ncreate index scores_points on scores (points);\n"
            "create materialized view ranking as select id, points from scores;\n"
            "create function refreshed() returns trigger language plpgsql as $$"
            " begin refresh materialized view ranking; return null; end $$;\n"
            "create trigger scores_refresh after insert on scores for each statement execute function refreshed();\n")
    facts = locks_of(pg_server, tmp_path, base, "drop index scores_points;\ncreate index ranking_points on ranking (points);\n",
                     "drop index ranking_points;\ncreate index scores_points on scores (points);\n")
    assert facts == "public.ranking: SHARE (blocks writes); public.scores: ACCESS EXCLUSIVE (blocks reads and writes)"


def test_a_materialized_view_named_beside_a_drop(pg_server: Database, tmp_path: Path) -> None:
    """crates.io: an index made on a materialized view in an up that also drops an index."""
    base = ("create table downloads (id int primary key, n int);\ncreate index downloads_n on downloads (n);\n"
            "create materialized view recent as select id, n from downloads;\n")
    assert locks_of(pg_server, tmp_path, base, "drop index downloads_n;\ncreate index recent_n on recent (n);\n",
                    "drop index recent_n;\ncreate index downloads_n on downloads (n);\n") == (
        "public.downloads: ACCESS EXCLUSIVE (blocks reads and writes); public.recent: SHARE (blocks writes)")


@pytest.mark.parametrize(("sql", "names"), [
    ("drop index s.i1, i2;", {"i1", "i2"}),
    ("drop table if exists a, s.b;", {"a", "b"}),
    ("drop trigger tr on s.t; drop policy p on u; drop rule r on v;", {"t", "u", "v"}),
    ("alter index a rename to b; alter table t rename column x to y;", {"a", "t"}),
    ("alter schema s rename to x;", set()),
    ("reindex table t; cluster u using i; vacuum full v, w; refresh materialized view m;", {"t", "u", "v", "w", "m"}),
    ("drop table t cascade;", None),
    ("drop type mood; drop function f(); drop schema s;", set()),  # refused while anything depends on them
    ("drop type mood cascade;", None),
    ("drop extension postgis;", None),
    ("drop publication p;", None),
    ("reindex schema public;", None),
    ("vacuum;", None),
    ("cluster;", None),
])
def test_what_a_drop_or_rename_names(tmp_path: Path, sql: str, names: set[str] | None) -> None:
    assert other_names(split_script(Script(tmp_path / "up.sql", sql))) == names


def test_a_rewrite_in_a_goose_block_is_told_at_its_own_line(pg_server: Database, tmp_path: Path) -> None:
    """goose sends a StatementBegin ... StatementEnd block as one query: the rewrite inside it is
    told at the statement that makes it, not at the block's first line (hatchet's LOCK TABLE)."""
    root = write_files(tmp_path / "repo", {
        "migrations/00001_base.sql": "-- +goose Up\n" + BASE["migrations/20250101000000_base.sql"]
                                     + "-- +goose Down\ndrop table appointments, clinics;\n",
        "migrations/00002_change.sql": (
            "-- +goose Up\n-- +goose StatementBegin\n\nLOCK TABLE appointments IN ACCESS EXCLUSIVE MODE;\n\n"
            "DELETE FROM appointments WHERE amount < 0;\n\nALTER TABLE appointments\n    ALTER COLUMN note TYPE int\n"
            "    USING length(note);\n-- +goose StatementEnd\n\n-- +goose Down\n"
            "ALTER TABLE appointments ALTER COLUMN note TYPE varchar(20);\n"),
    })
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--database-url", pg_server.conninfo, "--junit-xml", str(report), "-q"])
    cases = {(c.attrib["classname"], c.attrib["name"]): c for c in ET.parse(report).getroot().iter("testcase")}
    assert code == 1
    case = cases[("migration_check.locks", "00002_change")]
    message = text(case)
    assert "rewritten by line 8 (ALTER TABLE appointments ALTER COLUMN note TYPE int" in message, message
    assert case.attrib["line"] == "8"
    lint = [c.attrib for c in ET.parse(report).getroot().iter("testcase") if c.attrib["classname"] == "migration_check.lint"]
    assert {"MC007": "8", "MC018": "4"}.items() <= {a["name"].split()[-2]: a.get("line") for a in lint if ": " in a["name"]}.items(), lint
