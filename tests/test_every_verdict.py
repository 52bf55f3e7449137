"""Every migration gets a verdict (issue 9.1): a round-trip or reapply finding is recorded and the
replay goes on from the state the ups produce; only an apply failure stops it, and then the later
files still get a static parse. Through the CLI, on a real PostgreSQL."""

from __future__ import annotations

import contextlib
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import psycopg
import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.servers.base import Database


def check(pg_server: Database, path: Path, tmp_path: Path, *extra: str) -> tuple[int, ET.Element]:
    report = tmp_path / "report.xml"
    code = main(["check", str(path), "--database-url", pg_server.conninfo, "--junit-xml", str(report), *extra])
    return code, ET.parse(report).getroot()


def verdicts(root: ET.Element, check: str) -> dict[str, str]:
    """subject -> passed | failed | skipped, for one family."""
    found = {}
    for case in root.iter("testcase"):
        if case.attrib["classname"] == f"migration_check.{check}":
            state = "failed" if case.find("failure") is not None else "skipped" if case.find("skipped") is not None else "passed"
            found[case.attrib["name"]] = state
    return found


def numbered(count: int, broken: dict[int, tuple[str, str]] | None = None) -> dict[str, str]:
    """`count` migrations, each adding a table; `broken` replaces the up and rollback of some."""
    files = {}
    for number in range(1, count + 1):
        stem = f"2025010100{number:04d}_table_{number}"
        up, down = (broken or {}).get(number, (f"create table t{number} (id int primary key);", f"drop table t{number};"))
        files[f"migrations/{stem}.sql"] = up
        files[f"migrations/{stem}_rollback.sql"] = down
    return files


def test_a_rollback_defect_in_migration_3_of_300_leaves_every_later_verdict(pg_server: Database, tmp_path: Path) -> None:
    forgets_index = ("create table t3 (id int primary key, email text); create index t3_email on t3 (email);",
                     "alter table t3 drop column email;")
    project = write_files(tmp_path / "p", numbered(300, {3: forgets_index}))
    code, root = check(pg_server, project / "migrations", tmp_path)
    assert code == 1
    apply = verdicts(root, "apply")
    assert len(apply) == 300 and set(apply.values()) == {"passed"}
    roundtrip = verdicts(root, "roundtrip")
    assert [subject for subject, state in roundtrip.items() if state != "passed"] == ["20250101000003_table_3"]


def test_a_left_behind_role_does_not_hide_later_migrations(pg_server: Database, tmp_path: Path) -> None:
    # The rollback forgets the role: the up cannot apply again (role exists), which is the
    # roundtrip's finding, so the reapply case is not judged. The rebuild drops the
    # run's roles, so the replay goes on, and the role is gone after the run.
    role = "mc_test_reporting_role"
    project = write_files(tmp_path / "p", numbered(4, {2: (f"create role {role}; create table t2 (id int);", "drop table t2;")}))
    code, root = check(pg_server, project / "migrations", tmp_path)
    assert code == 1
    assert verdicts(root, "reapply")["20250101000002_table_2"] == "skipped"  # the rollback left the role
    assert verdicts(root, "apply") == dict.fromkeys(verdicts(root, "apply"), "passed")
    assert verdicts(root, "roundtrip")["20250101000004_table_4"] == "passed"
    with contextlib.closing(psycopg.connect(pg_server.conninfo)) as conn:
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (role,)).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'migration\\_check\\_%'").fetchone() == (0,)


def test_a_rollback_that_fails_half_way_outside_a_transaction_is_rebuilt(pg_server: Database, tmp_path: Path) -> None:
    # CONCURRENTLY runs statement by statement: the first drop happens, the second fails.
    half = ("create table t2 (id int, a int); create index concurrently t2_a on t2 (a);",
            "drop index concurrently t2_a;\ndrop table no_such_table;\n")
    project = write_files(tmp_path / "p", numbered(3, {2: half}))
    code, root = check(pg_server, project / "migrations", tmp_path)
    assert code == 1
    assert verdicts(root, "rollback")["20250101000002_table_2"] == "failed"
    assert verdicts(root, "apply")["20250101000003_table_3"] == "passed"
    assert verdicts(root, "roundtrip")["20250101000003_table_3"] == "passed"


def test_an_apply_failure_does_not_hide_the_later_migrations(pg_server: Database, tmp_path: Path) -> None:
    # One finding must not hide every later migration: they run on the state without the failed one.
    files = numbered(4, {2: ("create table t2 (id int references nowhere);", "drop table t2;"),
                         4: ("create table t4 (id int;\n", "drop table t4;")})
    project = write_files(tmp_path / "p", files)
    code, root = check(pg_server, project / "migrations", tmp_path)
    assert code == 1
    apply = verdicts(root, "apply")
    assert apply == {"20250101000001_table_1": "passed", "20250101000002_table_2": "failed",
                     "20250101000003_table_3": "passed", "20250101000004_table_4": "failed"}
    assert verdicts(root, "roundtrip")["20250101000003_table_3"] == "passed"
    [syntax] = [c for c in root.iter("testcase") if c.attrib["name"] == "20250101000004_table_4"
                and c.attrib["classname"] == "migration_check.apply"]
    assert syntax.attrib["line"] == "1"
    message = syntax.find("failure").attrib["message"]
    assert message.startswith("20250101000004_table_4.sql:1:24: ERROR 42601: syntax error")

    # Forward-only (no rollback files): the broken up is the apply case's finding, not the rollback's too.
    forward = write_files(tmp_path / "f", {k: v for k, v in files.items() if not k.endswith("_rollback.sql")})
    code, root = check(pg_server, forward / "migrations", tmp_path)
    assert verdicts(root, "apply")["20250101000004_table_4"] == "failed"
    assert verdicts(root, "rollback")["20250101000004_table_4"] == "skipped"


def test_a_broken_rollback_after_an_apply_failure_is_its_own_finding(pg_server: Database, tmp_path: Path) -> None:
    files = numbered(3, {1: ("create table t1 (id int references nowhere);", "drop table t1;"),
                         3: ("create table t3 (id int);", "drop table t3 cascade oops;")})
    code, root = check(pg_server, write_files(tmp_path / "p", files) / "migrations", tmp_path)
    assert code == 1
    assert verdicts(root, "apply")["20250101000003_table_3"] == "passed"
    [broken] = [c for c in root.iter("testcase") if c.attrib["name"] == "20250101000003_table_3"
                and c.attrib["classname"] == "migration_check.rollback"]
    assert "20250101000003_table_3_rollback.sql:1:" in broken.find("failure").attrib["message"]


def test_what_a_failed_migration_makes_is_not_judged_against_the_later_ones(pg_server: Database, tmp_path: Path) -> None:
    # Migration 2 fails; 3 alters the table 2 creates (not judged: 2's failure, not 3's), 4 adds
    # a column to 3's... which 3 never made (not judged either); 5 is independent and judged. 2 writes
    # the name in capitals, which PostgreSQL folds (openremote's `create table TENANT_RULESET`).
    files = numbered(5, {2: ("create table T2 (id int references nowhere);", "drop table T2;"),
                         3: ("alter table t2 add column c3 int;", "alter table t2 drop column c3;"),
                         4: ("create index t2_c3 on t2 (c3);", "drop index t2_c3;")})
    code, root = check(pg_server, write_files(tmp_path / "p", files) / "migrations", tmp_path)
    assert code == 1
    apply = verdicts(root, "apply")
    assert apply == {"20250101000001_table_1": "passed", "20250101000002_table_2": "failed",
                     "20250101000003_table_3": "skipped", "20250101000004_table_4": "skipped",
                     "20250101000005_table_5": "passed"}
    skipped = {c.attrib["name"]: c.find("skipped").attrib["message"] for c in root.iter("testcase")
               if c.attrib["classname"] == "migration_check.apply" and c.find("skipped") is not None}
    assert skipped["20250101000003_table_3"] == (
        'not judged: it needs t2 (relation "t2" does not exist), which 20250101000002_table_2.sql names, and that'
        " migration is not replayed (it failed to apply)")
    assert skipped["20250101000004_table_4"].endswith(
        "it needs t2 (relation \"t2\" does not exist), which 20250101000003_table_3.sql names, and that migration"
        " is not replayed (it was not judged: it follows from 20250101000002_table_2.sql, which failed to apply)")
    assert verdicts(root, "roundtrip")["20250101000005_table_5"] == "passed"


def test_a_later_failure_that_may_follow_from_an_earlier_one_is_not_judged(pg_server: Database, tmp_path: Path) -> None:
    # Each later failure linked to an earlier one is skipped with the link; the rest are findings.
    ups = {
        1: "create extension postgis;",  # not available on the test server
        2: "create table g (p geometry);",  # needs PostGIS: 1's failure, not 2's
        3: "create table acct (id int primary key, tenant int);",
        4: "alter table acct alter column tenant type uuid using null;\nalter table nowhere_x add column y int;",
        5: "insert into acct values (1, gen_random_uuid());",  # fails on acct, which 4 (failed) changes
        6: "create table a6 (id int references mc_no_schema.users);",
        7: "create table a7 (id int, u int references mc_no_schema.users);",  # the same thing missing as 6
        8: "create table c8 (a int check (a in (select 1)));",  # its own failure
        9: "alter table later_t add column z int;",  # the table comes in 10
        10: "create table later_t (id int);",
        11: "alter table acct add column q int not nul;",  # a syntax error is its own, whatever 4 did
        12: "create table uses_mood (m mood);",  # the type comes in 13
        13: "create type mood as enum ('calm');",
        14: "create table t14 (id int);",
        15: "alter table t14 rename to t14_base;\ncreate view t14 as select * from t14_base;\ncreate table c15 (a int references nowhere_c15);",
        16: "drop view t14;",  # a DROP names what it drops: t14, which 15 (failed) makes a view
    }
    files = numbered(16, {n: (up, "select 1;") for n, up in ups.items()})
    code, root = check(pg_server, write_files(tmp_path / "p", files) / "migrations", tmp_path)
    assert code == 1
    cases = {c.attrib["name"].split("_table_")[1]: c for c in root.iter("testcase")
             if c.attrib["classname"] == "migration_check.apply"}
    failed = sorted(int(n) for n, c in cases.items() if c.find("failure") is not None)
    assert failed == [1, 4, 6, 8, 9, 11, 12, 15]
    skipped = {int(n): c.find("skipped").attrib["message"] for n, c in cases.items() if c.find("skipped") is not None}
    assert skipped[2] == ('not judged: it needs geometry, a type of the postgis extension (type "geometry" does not'
                          " exist), which 20250101000001_table_1.sql names, and that migration is not replayed (it"
                          " failed to apply)")
    assert skipped[5].startswith("not judged: it fails (column \"tenant\" is of type integer but expression is of type"
                                 " uuid) on acct, which 20250101000004_table_4.sql also names")
    assert skipped[7] == ('not judged: it fails as 20250101000006_table_6.sql did (schema "mc_no_schema" does not'
                          " exist), and that migration is not replayed (it failed to apply): fix that one first")
    assert skipped[16].startswith('not judged: it fails ("t14" is not a view) on t14, which 20250101000015_table_15.sql also names')
    assert sorted(skipped) == [2, 5, 7, 16]
    later = cases["9"].find("failure").attrib["message"]
    assert later.endswith("(20250101000010_table_10.sql:1, a later migration, creates later_t: the runner applies"
                          " this one first; order them, or move the statement)")
    assert cases["12"].find("failure").attrib["message"].endswith(
        'type "mood" does not exist (20250101000013_table_13.sql:1, a later migration, creates mood: the runner'
        " applies this one first; order them, or move the statement)")


def test_the_migration_that_makes_what_is_missing_is_named_before_one_that_touches_the_same_table(
        pg_server: Database, tmp_path: Path) -> None:
    # City-of-Helsinki/haitaton-backend: 015 needs hankegeometriat, which an unreplayed migration
    # makes; a nearer unreplayed one names only hanke, which 015 also touches: the maker is named.
    ups = {
        1: "create table base (id int);",
        2: "create table geo (id int references nowhere_geo);",
        3: "alter table base add column g int;\ncreate table h (id int references nowhere_h);",
        4: "insert into base (id) select id from geo;",
    }
    files = numbered(4, {n: (up, "select 1;") for n, up in ups.items()})
    _code, root = check(pg_server, write_files(tmp_path / "p", files) / "migrations", tmp_path)
    skipped = {c.attrib["name"]: c.find("skipped").attrib["message"] for c in root.iter("testcase")
               if c.attrib["classname"] == "migration_check.apply" and c.find("skipped") is not None}
    assert skipped["20250101000004_table_4"] == ('not judged: it needs geo (relation "geo" does not exist), which 20250101000002_table_2.sql'
                       " names, and that migration is not replayed (it failed to apply)")


def test_a_drop_that_fails_on_what_an_unreplayed_migration_changes_is_not_judged(pg_server: Database,
                                                                                  tmp_path: Path) -> None:
    # DSpace/DSpace: DROP SEQUENCE fails while a column default still uses it, a column that an
    # earlier migration, not replayed, drops ("cannot drop sequence ... because other objects depend on it").
    ups = {
        1: "create sequence legacy_seq;\ncreate table legacy (id int default nextval('legacy_seq'), x int);",
        2: "alter table legacy drop column id;\nalter table nowhere_2 add column q int;",
        3: "drop sequence legacy_seq;",
    }
    files = numbered(3, {n: (up, "select 1;") for n, up in ups.items()})
    code, root = check(pg_server, write_files(tmp_path / "p", files) / "migrations", tmp_path)
    cases = {c.attrib["name"].split("_table_")[1]: c for c in root.iter("testcase")
             if c.attrib["classname"] == "migration_check.apply"}
    assert code == 1 and cases["2"].find("failure") is not None
    assert cases["3"].find("skipped").attrib["message"] == (
        "not judged: it fails (cannot drop sequence legacy_seq because other objects depend on it) while legacy still"
        " depends on it, which 20250101000002_table_2.sql changes, and that migration is not replayed (it failed to"
        " apply): its failure may follow from that one")


def test_a_rollback_that_fails_for_want_of_a_failed_migrations_table_is_not_judged(pg_server: Database,
                                                                                    tmp_path: Path) -> None:
    # LemmyNet/lemmy: a rollback alters community_actions, which an earlier up (that failed here)
    # makes; the up itself does not need it.
    files = numbered(2, {1: ("create table t1 (id int references nowhere);", "drop table t1;"),
                         2: ("create table t2 (id int);", "drop table t2;\nalter table t1 drop column id;")})
    code, root = check(pg_server, write_files(tmp_path / "p", files) / "migrations", tmp_path)
    assert code == 1
    cases = {(c.attrib["classname"].split(".")[-1], c.attrib["name"]): c for c in root.iter("testcase")}
    rollback = cases["rollback", "20250101000002_table_2"].find("skipped").attrib["message"]
    assert rollback == ('not judged: it needs t1 (relation "t1" does not exist), which 20250101000001_table_1.sql'
                        " names, and that migration is not replayed (it failed to apply)")
    assert cases["roundtrip", "20250101000002_table_2"].find("skipped").attrib["message"] == (
        "not run: the rollback was not judged")


def test_a_supabase_schema_outside_a_supabase_layout_gets_the_preset_hint(pg_server: Database, tmp_path: Path) -> None:
    # 0x0501/readest keeps Supabase migrations as numbered files under docker/: `auth` is the platform's.
    files = numbered(1, {1: ("create table a (id uuid references auth.users);", "drop table a;")})
    code, root = check(pg_server, write_files(tmp_path / "p", files) / "migrations", tmp_path)
    [(_, message)] = [(c.attrib["name"], c.find("failure").attrib["message"]) for c in root.iter("testcase")
                      if c.attrib["classname"] == "migration_check.apply" and c.find("failure") is not None]
    assert code == 1 and message.endswith(
        'schema "auth" does not exist (schema auth is Supabase\'s: the `supabase` setup preset makes the auth, storage'
        " and extensions schemas, their common tables and functions and the supabase_realtime publication"
        " (`--setup supabase`); for the rest, check on Supabase's image (`--postgres-image supabase/postgres`))")
    code, root = check(pg_server, write_files(tmp_path / "p", files) / "migrations", tmp_path, "--setup", "supabase")
    assert code == 0
    # AbyteQuantic/vendia-api: a storage bucket row, in a plain numbered project.
    files = numbered(1, {1: ("insert into storage.buckets (id, name) values ('logos', 'logos');", "select 1;")})
    code, root = check(pg_server, write_files(tmp_path / "q", files) / "migrations", tmp_path)
    [message] = [c.find("failure").attrib["message"] for c in root.iter("testcase")
                 if c.attrib["classname"] == "migration_check.apply" and c.find("failure") is not None]
    assert message.endswith('relation "storage.buckets" does not exist (table storage.buckets is Supabase\'s: the'
                            " `supabase` setup preset makes the auth, storage and extensions schemas, their common"
                            " tables and functions and the supabase_realtime publication (`--setup supabase`); for the"
                            " rest, check on Supabase's image (`--postgres-image supabase/postgres`))")
    # supabase-community/chatgpt-your-files: Vault, which the preset cannot make, once it ran.
    files = numbered(1, {1: ("select vault.create_secret('x');", "select 1;")})
    code, root = check(pg_server, write_files(tmp_path / "r", files) / "migrations", tmp_path, "--setup", "supabase")
    [message] = [c.find("failure").attrib["message"] for c in root.iter("testcase")
                 if c.attrib["classname"] == "migration_check.apply" and c.find("failure") is not None]
    assert message.endswith('schema "vault" does not exist (schema vault is Supabase\'s, and the `supabase` setup that'
                            " ran here does not make it: check on Supabase's image (`--postgres-image supabase/postgres`))")


def test_a_failure_half_way_outside_a_transaction_is_rebuilt_before_the_next(pg_server: Database, tmp_path: Path) -> None:
    # CONCURRENTLY runs statement by statement: the index is made, the second statement fails; the
    # next migration starts from the state without any of it.
    half = ("create index concurrently t1_id on t1 (id);\ncreate table t2 (id int references nowhere);",
            "drop table t2;")
    files = numbered(3, {2: half, 3: ("create index t1_id on t1 (id);", "drop index t1_id;")})
    code, root = check(pg_server, write_files(tmp_path / "p", files) / "migrations", tmp_path)
    assert code == 1
    assert verdicts(root, "apply") == {"20250101000001_table_1": "passed", "20250101000002_table_2": "failed",
                                       "20250101000003_table_3": "passed"}
    assert verdicts(root, "roundtrip")["20250101000003_table_3"] == "passed"


def test_rollbacks_absent_means_the_rollbacks_are_not_run(pg_server: Database, tmp_path: Path) -> None:
    project = write_files(tmp_path / "p", numbered(2, {1: ("create table t1 (id int);", "drop table no_such_table;")}))
    code, root = check(pg_server, project / "migrations", tmp_path, "--rollbacks", "absent")
    assert code == 0
    for family in ("rollback", "roundtrip", "reapply"):
        assert set(verdicts(root, family).values()) == {"skipped"}
    skipped = [c.find("skipped").attrib["message"] for c in root.iter("testcase")
               if c.attrib["classname"] == "migration_check.rollback"]
    assert skipped == ["rollbacks: absent: the rollback is not run"] * 2


def test_migrations_that_demote_postgres_do_not_break_the_tool(tmp_path: Path) -> None:
    # As Supabase's own migrations do, running as supabase_admin. The tool administers through its
    # own role, so the rebuild after migration 2's imperfect round trip still works, restores the
    # pre-existing role's attributes, and migration 3 gets its verdicts. A fresh local cluster:
    # roles are cluster-wide and only a server the tool starts lets it create superusers.
    project = write_files(tmp_path / "p", {
        ".migration-check.yml": "migration-role: supabase_admin\n",
        **numbered(3, {
            1: ("create table t1 (id int); alter role postgres nosuperuser;", "drop table t1; alter role postgres superuser;"),
            2: ("create index t1_id on t1 (id);", "select 1;"),
        }),
    })
    report = tmp_path / "report.xml"
    code = main(["check", str(project), "--junit-xml", str(report), "-q"])
    root = ET.parse(report).getroot()
    assert code == 1
    assert verdicts(root, "roundtrip") == {"20250101000001_table_1": "passed", "20250101000002_table_2": "failed",
                                           "20250101000003_table_3": "passed"}
    assert set(verdicts(root, "apply").values()) == {"passed"}
    [case] = [c for c in root.iter("testcase") if c.attrib["classname"] == "migration_check.roundtrip"
              and c.attrib["name"] == "20250101000001_table_1"]
    assert case.find("failure") is None  # the role's attribute came back with the rollback


def test_privileges_refused_after_a_migration_demoted_the_migration_role_name_it(tmp_path: Path) -> None:
    # supabase/postgres run as postgres (the default role): its first migration takes SUPERUSER from
    # postgres, and every later privileged statement fails. The failure names that line and the
    # setting that runs the migrations as the runner's role. A fresh local cluster, as above.
    project = write_files(tmp_path / "p", numbered(2, {
        1: ("create table t1 (id int);\nalter role postgres nosuperuser createrole;", "drop table t1;"),
        2: ("create table t2 (id int);\ncreate event trigger e on ddl_command_end execute function pg_catalog.now();",
            "drop table t2;"),
    }))
    report = tmp_path / "report.xml"
    code = main(["check", str(project), "--junit-xml", str(report), "-q"])
    messages = {(c.attrib["classname"], c.attrib["name"]): c.find("failure").attrib["message"]
                for c in ET.parse(report).getroot().iter("testcase") if c.find("failure") is not None}
    assert code == 1
    took = ("(migrations/20250101000001_table_1.sql:2 took SUPERUSER from postgres, the role the migrations run as here:"
            " if the runner runs them as another role, run them as that one, `migration-role:` in the config)")
    assert messages[("migration_check.apply", "20250101000002_table_2")].endswith(
        'ERROR 42501: permission denied to create event trigger "e" ' + took)
    assert messages[("migration_check.reapply", "20250101000001_table_1")].endswith(took)


def failure_of_one(pg_server: Database, tmp_path: Path, up: str, down: str, family: str) -> str:
    """The message of `family`'s failure for a project of one migration (the run fails)."""
    project = write_files(tmp_path / "p", numbered(1, {1: (up, down)}))
    code, root = check(pg_server, project / "migrations", tmp_path)
    assert code == 1
    [case] = [c for c in root.iter("testcase") if c.attrib["classname"] == f"migration_check.{family}"]
    return case.find("failure").attrib["message"]


def test_a_placeholder_rollback_is_named_as_one(pg_server: Database, tmp_path: Path) -> None:
    # goose's template leaves `SELECT 'down SQL query';` in the Down section (romankarpowich/simpleGrpcApp).
    message = failure_of_one(pg_server, tmp_path, "create table t (id int);", "SELECT 'down SQL query';", "roundtrip")
    assert message.startswith("rollback is not the inverse of up (20250101000001_table_1_rollback.sql holds"
                              " only `SELECT 'down SQL query'`, a placeholder): table public.t: created by the up")


def test_an_extension_the_server_lacks_says_where_to_check_instead(pg_server: Database, tmp_path: Path) -> None:
    message = failure_of_one(pg_server, tmp_path, "create extension migration_check_no_such_extension;",
                             "drop extension migration_check_no_such_extension;", "apply")
    assert "is not available (this server does not have it: check on one that does, `--pg-bindir DIR`" in message


def test_a_rollback_in_the_wrong_order_says_to_reverse_it_not_to_cascade(pg_server: Database, tmp_path: Path) -> None:
    # As real goose projects do: the down drops the parent before its children.
    up = "create table chats (id int primary key); create table messages (chat_id int references chats);"
    message = failure_of_one(pg_server, tmp_path, up, "drop table chats; drop table messages;", "rollback")
    assert "ERROR 2BP01: cannot drop table chats because other objects depend on it (drop what depends on it first:" in message


def test_a_name_in_a_schema_off_the_search_path_says_so_and_how_to_set_it(pg_server: Database, tmp_path: Path) -> None:
    # As OpenFn/db does: the function is made in schema "1", the trigger names it unqualified (its
    # production role's search_path has "1"). The hint's own statement, as a setup script, passes.
    function = 'create schema "1"; create function "1".touch() returns trigger language plpgsql as $$begin return new; end$$;'
    trigger = "create table t (id int); create trigger t_touch before update on t for each row execute function touch();"
    project = write_files(tmp_path / "p", numbered(2, {1: (function, 'drop schema "1" cascade;'),
                                                       2: (trigger, "drop table t;")}))
    code, root = check(pg_server, project / "migrations", tmp_path)
    [case] = [c for c in root.iter("testcase") if c.attrib["classname"] == "migration_check.apply"
              and c.find("failure") is not None]
    message = case.find("failure").attrib["message"]
    assert code == 1 and 'function touch() does not exist (one of that name is in schema "1"' in message
    setup = tmp_path / "setup.sql"
    setup.write_text(message[message.index("DO $$"):].removesuffix(")"))
    code, root = check(pg_server, project / "migrations", tmp_path, "--setup", str(setup))
    assert code == 0, ET.tostring(root, encoding="unicode")


def test_a_table_in_a_schema_off_the_search_path_outranks_a_file_elsewhere_creating_one(pg_server: Database,
                                                                                       tmp_path: Path) -> None:
    # supabase/storage: its tenant migrations make storage.iceberg_namespaces, a later one alters it
    # unqualified (the runner sets search_path = storage, ...); its multitenant migrations create an
    # iceberg_namespaces too: the schema that holds one is the hint, not the other set's file.
    project = write_files(tmp_path / "p", {
        **numbered(2, {1: ("create schema storage; create table storage.iceberg_namespaces (id int);",
                           "drop schema storage cascade;"),
                       2: ("alter table iceberg_namespaces add column metadata jsonb;",
                           "alter table iceberg_namespaces drop column metadata;")}),
        "multitenant/0019-iceberg.sql": "create table iceberg_namespaces (id int);\n",
    })
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run(["git", "-C", str(project), "add", "-A"], check=True)
    code, root = check(pg_server, project / "migrations", tmp_path)
    [case] = [c for c in root.iter("testcase") if c.attrib["classname"] == "migration_check.apply"
              and c.find("failure") is not None]
    message = case.find("failure").attrib["message"]
    assert code == 1 and 'relation "iceberg_namespaces" does not exist (one of that name is in schema storage' in message
    assert "multitenant" not in message


def test_a_name_only_the_servers_own_views_hold_is_not_a_search_path_matter(pg_server: Database, tmp_path: Path) -> None:
    # Netflix/lemur: its base tables come from create_all; information_schema.domains is not its domains.
    message = failure_of_one(pg_server, tmp_path, "alter table domains add column sensitive boolean;",
                             "alter table domains drop column sensitive;", "apply")
    assert 'relation "domains" does not exist (no migration here creates table domains' in message
    assert "information_schema" not in message


def test_a_missing_extension_type_names_its_extension(pg_server: Database, tmp_path: Path) -> None:
    # pgvector's type used without CREATE EXTENSION (a Prisma project whose production has it by hand).
    message = failure_of_one(pg_server, tmp_path, "create table docs (id int, embedding vector(3));", "drop table docs;",
                             "apply")
    assert "(vector is a type of the vector extension: CREATE EXTENSION vector first" in message


def test_a_missing_extension_names_the_file_that_creates_it_outside_the_migrations(pg_server: Database,
                                                                                   tmp_path: Path) -> None:
    # FlogFr/FlashCard: bin/setup_database.sh runs `psql -c 'CREATE EXTENSION pg_trgm;'` before sqitch
    # deploys; a migration creating the extension, and the words in a SQL comment, name nothing.
    project = write_files(tmp_path / "p", {
        **numbered(1, {1: ("create table w (word text); create index w_trgm on w using gin (word gin_trgm_ops);",
                           "drop table w;")}),
        "migrations/README.md": "create extension pg_trgm is done by bin/setup_database.sh\n",
        "bin/setup_database.sh": "#!/bin/sh\ncreatedb words\npsql -c 'CREATE EXTENSION pg_trgm;' words\n",
        "db/notes.sql": "-- create extension pg_trgm; (by hand)\nselect 1;\n",
    })
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run(["git", "-C", str(project), "add", "-A"], check=True)
    code, root = check(pg_server, project / "migrations", tmp_path)
    [case] = [c for c in root.iter("testcase") if c.attrib["classname"] == "migration_check.apply"]
    assert code == 1
    assert case.find("failure").attrib["message"].endswith(
        "(gin_trgm_ops is an operator class of the pg_trgm extension, which bin/setup_database.sh:3 creates outside the"
        " migrations: give this database the same, CREATE EXTENSION pg_trgm in a setup script (`--setup FILE`), on a"
        " server that has it)")


def test_an_irreversible_change_can_be_confirmed_in_the_migration(pg_server: Database, tmp_path: Path) -> None:
    setup = ("create type status as enum ('open', 'done'); create table t1 (id int primary key, s status);", "drop table t1; drop type status;")
    plain = ("alter type status add value 'archived';", "select 1;")
    confirmed = ("-- migration-check: allow irreversible \"PostgreSQL cannot drop the label; rows may hold it\"\n"
                 "alter type status add value 'closed';", plain[1])
    unneeded = ("-- migration-check: allow irreversible \"just in case\"\ncreate table t9 (id int);", "drop table t9;")
    project = write_files(tmp_path / "p", numbered(4, {1: setup, 2: plain, 3: confirmed, 4: unneeded}))
    code, root = check(pg_server, project / "migrations", tmp_path)
    cases = {c.attrib["name"]: c for c in root.iter("testcase") if c.attrib["classname"] == "migration_check.roundtrip"}
    assert code == 1
    failed = cases["20250101000002_table_2"].find("failure").attrib["message"]
    assert failed.endswith('. If it is deliberate, confirm it in the migration: -- migration-check: allow irreversible "<why>"')
    passed = cases["20250101000003_table_3"]
    assert passed.find("failure") is None and passed.attrib["line"] == "1"
    assert "irreversible change confirmed: PostgreSQL cannot drop the label; rows may hold it" in (passed.find("system-out").text or "")
    unused = cases["20250101000004_table_4"].find("system-out").text or ""  # a warning
    assert unused.startswith("warning: ") and "unused confirmation: this migration's rollback is a true inverse" in unused
    # Run again after its rollback, the up fails on the label it added: the finding says how to write it.
    [again] = [c for c in root.iter("testcase") if c.attrib["classname"] == "migration_check.reapply"
               and c.attrib["name"] == "20250101000002_table_2"]
    assert "write ALTER TYPE ... ADD VALUE IF NOT EXISTS" in again.find("failure").attrib["message"]


def test_what_the_rollback_left_out_of_place_is_not_a_reapply_finding(pg_server: Database, tmp_path: Path) -> None:
    # Seen on All-Rated-Extreme-Demon-List/aredl-backend-v2: the rollback makes again a view the up
    # leaves alone, with other text. The roundtrip fails; the up, applied again, does what it did
    # the first time (the view stays as the rollback left it): not a reapply finding. The next
    # migration still starts from the state the ups make (the view as it was), as in production.
    files = numbered(3)
    files["migrations/20250101000001_table_1.sql"] = (
        "create table t1 (id int primary key, at timestamptz default now());"
        " create view recent as select id, now() - at as age from t1;")
    files["migrations/20250101000001_table_1_rollback.sql"] = "drop view recent; drop table t1;"
    files["migrations/20250101000002_table_2.sql"] = "create table t2 (id int primary key);"
    files["migrations/20250101000002_table_2_rollback.sql"] = (
        "drop table t2; drop view recent; create view recent as select id, now() - at as age, 1 as extra from t1;")
    # PostgreSQL cannot take a column out of a view with CREATE OR REPLACE: the third up fails if
    # it starts from the view the rollback left.
    files["migrations/20250101000003_table_3.sql"] = "create or replace view recent as select id, now() - at as age from t1;"
    files["migrations/20250101000003_table_3_rollback.sql"] = "select 1;"
    project = write_files(tmp_path / "p", files)
    report = tmp_path / "report.xml"
    code = main(["check", str(project / "migrations"), "--database-url", pg_server.conninfo,
                 "--junit-xml", str(report)])
    assert code == 1
    cases = {(case.attrib["classname"], case.attrib["name"]): case for case in ET.parse(report).getroot().iter("testcase")}
    second = "20250101000002_table_2"
    failure = cases[("migration_check.roundtrip", second)].find("failure")
    assert failure is not None and "view public.recent: definition differs" in failure.attrib["message"]
    reapply = cases[("migration_check.reapply", second)]
    assert reapply.find("failure") is None
    assert "what differs is the rollback's (see roundtrip): view public.recent" in (reapply.findtext("system-out") or "")
    assert verdicts(ET.parse(report).getroot(), "apply")["20250101000003_table_3"] == "passed"


def test_an_up_that_cannot_run_again_for_what_the_rollback_left_is_not_judged(pg_server: Database, tmp_path: Path) -> None:
    # harness/gitness: migrations without a down file, which maragu.dev/migrate does not undo. The
    # up fails again on the table the rollback left behind (or on the one it did not restore): that
    # is the roundtrip's finding, said once; the reapply case is not judged and says why.
    keeps = ("create table t2 (id int primary key);", "comment on table t1 is null;")
    drops = ("drop table t1;", "comment on table t2 is null;")
    project = write_files(tmp_path / "p", numbered(3, {2: keeps, 3: drops}))
    code, root = check(pg_server, project / "migrations", tmp_path)
    assert code == 1
    assert verdicts(root, "roundtrip") == {"20250101000001_table_1": "passed", "20250101000002_table_2": "failed",
                                           "20250101000003_table_3": "failed"}
    reasons = {case.attrib["name"]: case.find("skipped").attrib["message"] for case in root.iter("testcase")
               if case.attrib["classname"] == "migration_check.reapply" and case.find("skipped") is not None}
    assert reasons == {
        "20250101000002_table_2": "not judged: the rollback leaves table public.t2 behind (see roundtrip), and so the"
                                  " up cannot run again",
        "20250101000003_table_3": "not judged: the rollback does not restore table public.t1 (see roundtrip), and so"
                                  " the up cannot run again",
    }


def test_an_orm_enum_type_of_a_migration_the_replay_cannot_run_is_not_judged(pg_server: Database, tmp_path: Path,
                                                                             capsys: pytest.CaptureFixture[str]) -> None:
    # outline, opencollective-api: a Sequelize migration the replay cannot run makes a table with an
    # ENUM column, whose type (`enum_<table>_<column>`) it never names; a later ALTER TYPE needs it.
    up = ("module.exports = {\n  up: async (queryInterface, Sequelize) => {\n"
          "    if (process.env.X) return;\n"
          "    await queryInterface.createTable('search_queries', { source: { type: Sequelize.ENUM('slack', 'app') } });\n"
          "  },\n  down: async (queryInterface) => { await queryInterface.dropTable('search_queries'); },\n};\n")
    later = ("module.exports = {\n  up: async (queryInterface) => {\n"
             "    await queryInterface.sequelize.query(\"ALTER TYPE enum_search_queries_source ADD VALUE 'oauth'\");\n"
             "  },\n  down: async () => {},\n};\n")
    root = write_files(tmp_path / "repo", {"migrations/20240101000000-a.js": up, "migrations/20240102000000-b.js": later})
    code, report = check(pg_server, root, tmp_path)
    case = next(c for c in report.iter("testcase") if c.attrib["classname"] == "migration_check.apply"
                and c.attrib["name"] == "20240102000000-b.js")
    skipped = case.find("skipped")
    assert skipped is not None and "the enum type an ORM makes for column search_queries.source" in skipped.attrib["message"]
    assert code == 0
    # A pass that replayed nothing says so (requarks/wiki's knex modules are all code).
    assert ("no migration was replayed (2 skipped, 1 of them code or values the replay does not have; each skipped case says why):"
            " the verdict rests on the static checks alone\nOK:") in capsys.readouterr().out


def test_a_table_a_java_migration_makes_from_a_resource_per_database_is_linked(pg_server: Database,
                                                                              tmp_path: Path) -> None:
    # DSpace/DSpace: its Java migration runs packagePath + "/" + dbFileLocation +
    # "/v6.0__DS-2701_xml_workflow_migration.sql", one file per database under the resources; a
    # later script that alters the tables it makes failed as the script's own finding.
    resources = "src/main/resources"
    project = write_files(tmp_path / "p", {
        f"{resources}/db/migration/V1__base.sql": "create table item (id int primary key);\n",
        "src/main/java/db/migration/V2__Enable_workflow.java": (
            "class V2__Enable_workflow {\n  void migrate() {\n    String sql = MigrationUtils.getResourceAsString(\n"
            '        packagePath + "/" + dbFileLocation + "/v2__workflow_tables.sql");\n  }\n}\n'),
        f"{resources}/db/workflow/postgres/v2__workflow_tables.sql": "create table cwf_pooltask (id int);\n",
        f"{resources}/db/workflow/h2/v2__workflow_tables.sql": "create table cwf_pooltask_h2 (id int);\n",
        f"{resources}/db/migration/V3__workflow_column.sql": "alter table cwf_pooltask add column item_id int;\n",
    })
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    code, root = check(pg_server, project / resources / "db/migration", tmp_path)
    [case] = [c for c in root.iter("testcase")
              if c.attrib["classname"] == "migration_check.apply" and c.attrib["name"] == "3_workflow_column"]
    skipped = case.find("skipped")
    assert skipped is not None and skipped.attrib["message"].startswith(
        'not judged: it needs cwf_pooltask (relation "cwf_pooltask" does not exist), which'
        " src/main/java/db/migration/V2__Enable_workflow.java names"), ET.tostring(case, encoding="unicode")
