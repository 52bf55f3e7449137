"""The replay's plug-in points: a family is one class that observes a migration's round trip and
gives one verdict at its stage. These tests plug in a family of their own, on a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import psycopg

from conftest import write_files
from migration_check.discovery import discover
from migration_check.families import REPLAY_FAMILIES, Family, MigrationContext, Stage, replay_families
from migration_check.model import CheckResult, Project, Status
from migration_check.replay.outcomes import MigrationOutcome
from migration_check.replay.runner import Replay
from migration_check.settings import Settings


class Recorder(Family):
    """Notes every hook it sees, and the locks the up holds on existing tables before it commits."""

    name = "recorder"
    stage = Stage.REAPPLY_RAN

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.calls: list[tuple[str, str]] = []
        self.locks: dict[str, list[str]] = {}

    def before_up(self, context: MigrationContext) -> None:
        self.calls.append(("before_up", context.migration.version))

    def in_up_transaction(self, context: MigrationContext, conn: psycopg.Connection) -> None:
        self.calls.append(("in_up_transaction", context.migration.version))
        rows = conn.execute(
            "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " WHERE l.pid = pg_backend_pid() AND c.relname = 'accounts' ORDER BY 2").fetchall()
        self.locks[context.migration.version] = [mode for _, mode in rows]

    # The after_* hooks run on the tool's own session while the snapshot is taken on the migration's.
    def after_up(self, context: MigrationContext) -> None:
        assert context.tool_session is not context.conn and not context.tool_session.closed
        context.tool_session.execute("SELECT 1")
        self.calls.append(("after_up", context.migration.version))

    def after_down(self, context: MigrationContext) -> None:
        assert context.after_up is not None
        self.calls.append(("after_down", context.migration.version))

    def after_reapply(self, context: MigrationContext) -> None:
        assert context.after_down is not None
        self.calls.append(("after_reapply", context.migration.version))

    def verdict(self, context: MigrationContext) -> CheckResult:
        assert context.after_reapply is not None
        self.calls.append(("verdict", context.migration.version))
        return context.result(self.name, Status.PASSED, message="seen")


def project(tmp_path: Path, files: dict[str, str]) -> Project:
    return discover(write_files(tmp_path, files), "timestamp")


def replay(conn: psycopg.Connection, tmp_path: Path, files: dict[str, str], families: list[Family]) -> list[MigrationOutcome]:
    return list(Replay(project(tmp_path, files), conn, Settings(), families).outcomes())


TWO_MIGRATIONS = {
    "20250101000000_create_accounts.sql": "create table accounts (id int primary key);",
    "20250101000000_create_accounts_rollback.sql": "drop table accounts;",
    "20250102000000_add_email.sql": "alter table accounts add column email text;",
    "20250102000000_add_email_rollback.sql": "alter table accounts drop column email;",
}


def test_every_hook_is_called_in_round_trip_order(conn: psycopg.Connection, tmp_path: Path) -> None:
    recorder = Recorder(Settings())
    outcomes = replay(conn, tmp_path, TWO_MIGRATIONS, [recorder])
    first, second = "20250101000000", "20250102000000"
    round_trip = ["in_up_transaction", "after_up", "after_down", "after_reapply"]
    # The next migration's before_up runs ahead, alongside the previous one's last snapshot.
    assert recorder.calls == [("before_up", first), *((hook, first) for hook in round_trip), ("before_up", second),
                              ("verdict", first), *((hook, second) for hook in round_trip), ("verdict", second)]
    assert [[r.check for r in o.results] for o in outcomes] == [["recorder"], ["recorder"]]


class Databases(Family):
    """Notes the database each before_up sees."""

    name = "databases"
    stage = Stage.UP_DONE

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.seen: list[tuple[str, str]] = []

    def before_up(self, context: MigrationContext) -> None:
        self.seen.append((context.migration.version, context.tool_session.info.dbname))

    def verdict(self, context: MigrationContext) -> CheckResult:
        return context.result(self.name, Status.PASSED)


def test_a_rebuilt_database_gets_the_next_before_up_again(conn: psycopg.Connection, tmp_path: Path) -> None:
    files = {
        # The rollback alters a table the up creates only if missing: the up run again differs.
        "20250101000000_log.sql": "create table if not exists log (id int);",
        "20250101000000_log_rollback.sql": "alter table log add column extra int;",
        "20250102000000_more.sql": "create table more (id int);",
        "20250102000000_more_rollback.sql": "drop table more;",
    }
    databases = Databases(Settings())
    outcomes = replay(conn, tmp_path, files, replay_families(Settings()) + [databases])
    first = {r.check: r for r in outcomes[0].results}
    assert first["roundtrip"].status is Status.FAILED
    # The up let the column be both times: the difference is the rollback's, and the up passes.
    assert first["reapply"].status is Status.PASSED
    assert first["reapply"].message.startswith("the up gives the same again; what differs is the rollback's")
    assert {r.check: r.status for r in outcomes[1].results}["reapply"] is Status.PASSED
    [(_, first), (_, ahead), (_, again)] = databases.seen
    assert [version for version, _ in databases.seen] == ["20250101000000", "20250102000000", "20250102000000"]
    assert first == ahead != again  # observed ahead, then again on the rebuilt database


def test_the_up_transaction_hook_sees_the_locks_the_up_holds(conn: psycopg.Connection, tmp_path: Path) -> None:
    recorder = Recorder(Settings())
    replay(conn, tmp_path, TWO_MIGRATIONS, [recorder])
    assert recorder.locks["20250102000000"] == ["AccessExclusiveLock"]


def test_a_family_whose_stage_is_not_reached_is_skipped_with_the_reason(conn: psycopg.Connection, tmp_path: Path) -> None:
    files = dict(TWO_MIGRATIONS)
    files["20250102000000_add_email_rollback.sql"] = "alter table accounts drop column no_such_column;"
    outcomes = replay(conn, tmp_path, files, replay_families(Settings()) + [Recorder(Settings())])
    second = {r.check: r for r in outcomes[1].results}
    assert second["rollback"].status is Status.FAILED
    assert {second[c].status for c in ("roundtrip", "reapply", "recorder")} == {Status.SKIPPED}
    assert second["recorder"].message == "not run: the rollback failed"


def test_the_registry_is_in_report_order_and_each_family_is_its_own_module() -> None:
    assert [f.name for f in REPLAY_FAMILIES] == ["apply", "verify", "locks", "rollback", "roundtrip", "data", "integrity", "reapply"]
    assert len({f.__module__ for f in REPLAY_FAMILIES}) == len(REPLAY_FAMILIES)
    assert [f.stage for f in REPLAY_FAMILIES] == sorted(f.stage for f in REPLAY_FAMILIES)
