"""Rebuilds from a checkpoint (a copy of the last rebuilt database) judge every migration as
rebuilds from nothing do: the same cases, the same messages. On a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from conftest import replayed, write_files
from migration_check.cli import main
from migration_check.model import Script
from migration_check.replay.restore import FreshDatabases, copies_are_safe
from migration_check.servers.base import Database, connect_like
from migration_check.servers.url import UrlProvider

# Each NOT NULL column without a default fails on the generated rows, so the up is judged again on
# a rebuilt state without them (trigger.dev's Prisma migrations do this 92 times in 821); the last
# migration rewrites a table the rebuilds made, which the lock family must see on the new database.
FILES = {
    "20250101000000_users.sql": "create table users (id int primary key, name text);",
    "20250101000000_users_rollback.sql": "drop table users;",
    "20250102000000_nick.sql": "alter table users add column nick text not null;",
    "20250102000000_nick_rollback.sql": "alter table users drop column nick;",
    "20250103000000_orders.sql": "create table orders (id int primary key, user_id int references users);",
    "20250103000000_orders_rollback.sql": "drop table orders;",
    "20250104000000_email.sql": "alter table users add column email text not null;",
    "20250104000000_email_rollback.sql": "alter table users drop column email;",
    "20250105000000_ids.sql": "alter table orders alter column id type bigint;",
    "20250105000000_ids_rollback.sql": "alter table orders alter column id type int;",
    "20250106000000_code.sql": "alter table orders add column code text not null;",
    "20250106000000_code_rollback.sql": "alter table orders drop column code;",
}
# A setup script whose procedural code could reach beyond its database (it builds a statement that
# names a role at run time): rebuilds start from nothing.
NO_COPIES = {"setup.sql": "do $$ begin execute 'select 1 as role'; end $$;\n"}  # a statement built at run time


def verdicts(pg_server: Database, root: Path, setup: list[str]) -> tuple[list[tuple[str, str, str, str]], int]:
    cases, replay = replayed(pg_server, root, setup)
    return cases, replay.rebuilds_from_checkpoints


def test_rebuilds_from_a_checkpoint_judge_as_rebuilds_from_nothing(pg_server: Database, tmp_path: Path) -> None:
    root = write_files(tmp_path, {**{f"migrations/{k}": v for k, v in FILES.items()}, **NO_COPIES,
                                  "empty.sql": "select 1;\n"})
    copied, copies = verdicts(pg_server, root, ["empty.sql"])
    from_nothing, none = verdicts(pg_server, root, ["setup.sql"])
    assert (copies, none) == (2, 0)  # the first rebuild starts from nothing and keeps a checkpoint
    assert copied == from_nothing
    warned = [subject for subject, check, _, message in copied if check == "data" and "fails while" in message]
    assert warned == ["20250102000000_nick", "20250104000000_email", "20250106000000_code"]
    locks = {subject: (status, message) for subject, check, status, message in copied if check == "locks"}
    assert locks["20250105000000_ids"][0] == "failed" and "public.orders" in locks["20250105000000_ids"][1]
    assert locks["20250106000000_code"][0] == "passed"  # a column added on the rebuilt table: no rewrite


@pytest.mark.parametrize(("sql", "safe"), [
    ("create table t (id int); grant select on t to public;", True),
    ("create function f() returns int language sql as $$ select 1 $$;", True),
    ("create role app nologin;", False),
    ("grant app to current_user;", False),
    ("alter database current set search_path = app;", False),
    ("do $$ begin execute 'drop role app'; end $$;", False),
    ("create function f() returns void language plpgsql as $$ begin alter system set work_mem = '1MB'; end $$;", False),
    # Code that only mentions a role (Supabase's auth.role(), a column named role) is no reason.
    ("create function t() returns trigger language plpgsql as $$ begin if auth.role() = 'admin' then"
     " new.role := 'x'; end if; return new; end $$;", True),
    ("do $$ begin update users set role = 'member' where role is null; end $$;", True),
    ("create function f(size int) returns text language sql as $$ select repeat('database', size) $$;", True),
    ("do $$ begin create role app; end $$;", False),
    ("do $$ begin execute format('alter table %I owner to %I', 't', 'app_role'); end $$;", False),  # built at run time
    ("create function f() returns int language c as 'lib', 'f';", False),  # code it cannot read
    ("create role app nologin; create tabel t (id int);", True),  # does not parse: runs nothing
])
def test_copies_are_kept_only_where_no_statement_reaches_beyond_its_database(tmp_path: Path, sql: str,
                                                                              safe: bool) -> None:
    assert copies_are_safe([Script(tmp_path / "a.sql", sql)]) is safe


def test_no_checkpoint_is_left_on_the_server(pg_server: Database, tmp_path: Path) -> None:
    root = write_files(tmp_path, {f"migrations/{k}": v for k, v in FILES.items()})
    with psycopg.connect(pg_server.conninfo, autocommit=True) as admin:
        before = {name for (name,) in admin.execute("SELECT datname FROM pg_database")}
        code = main(["check", str(root), "--format", "timestamp", "--database-url", pg_server.conninfo, "-q",
                     "--junit-xml", str(tmp_path / "report.xml")])
        after = {name for (name,) in admin.execute("SELECT datname FROM pg_database")}
    assert code == 1 and after == before  # the lock family's rewrite fails the run; nothing stays


def test_the_next_rebuild_starts_from_a_copy_made_alongside(pg_server: Database) -> None:
    """After a rebuild from the checkpoint, the old database is dropped and a spare copy of the
    checkpoint made on a session of their own; the next rebuild starts from that copy, and no copy
    outlives the checkpoint."""
    with UrlProvider(pg_server.conninfo) as database, psycopg.connect(database.conninfo, autocommit=True) as conn:
        admin = connect_like(conn)
        fresh = FreshDatabases(admin)

        def databases() -> set[str]:
            return {name for (name,) in admin.execute("SELECT datname FROM pg_database")}

        conn.execute("CREATE TABLE kept (id int)")
        conn = fresh.keep_checkpoint(conn, admin, ("a",))
        assert fresh.checkpoint is not None
        checkpoint, first = fresh.checkpoint.name, conn.info.dbname
        conn, admin = fresh.replace(conn, admin, template=checkpoint)
        fresh.wait_for_background(admin)
        [spare] = {name for name in databases() if name.startswith(first)} - {checkpoint, conn.info.dbname}
        assert first not in databases() and fresh.copy_seconds > 0
        conn, admin = fresh.replace(conn, admin, template=checkpoint)
        assert conn.info.dbname == spare and conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)
        fresh.forget_checkpoint(admin)
        left = {name for name in databases() if name.startswith(first)}
        assert left == {conn.info.dbname}  # the run's own database, which the provider drops
        conn.close()
        admin.close()
