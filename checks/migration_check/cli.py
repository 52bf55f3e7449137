"""The `migration-check` command line (a contract: see the README's CLI reference).

Exit codes: 0 every check passed, 1 at least one check failed, 2 usage, configuration or
infrastructure error (and interruption). The JUnit file is written in every case.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

import psycopg

from migration_check import __version__, signals
from migration_check.config import pg_version, resolve_settings
from migration_check.data.seed import seed_scripts
from migration_check.discovery import LAYOUTS, discover
from migration_check.drift import drift_cases
from migration_check.errors import InfrastructureError, MigrationCheckError, UsageError, internal_error
from migration_check.families.locks import Locks
from migration_check.history import static_checks
from migration_check.history.merged import merged_scope
from migration_check.lint.results import LintAhead, project_lint
from migration_check.model import RollbackPolicy, RunReport, Severity
from migration_check.presets import setup_scripts, wanted_extensions
from migration_check.replay.outcomes import MigrationOutcome, skipped_outcome
from migration_check.replay.rebuild import SetupFailed
from migration_check.replay.runner import Replay
from migration_check.reports import junit, markdown, run_json, sarif
from migration_check.reports.console import Console, printable
from migration_check.servers import make_provider
from migration_check.servers.base import connect
from migration_check.settings import Settings


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


VAR_HELP = ("a value the runner's program or environment gives the migrations (pop's template option, a Flyway"
            " placeholder, a goose ENVSUB variable)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="migration-check", description="Prove that PostgreSQL migrations are safe to merge.")
    parser.add_argument("--version", action="version", version=f"migration-check {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = commands.add_parser("check", help="replay, round-trip and check the migrations")
    check.add_argument("path", nargs="?", type=Path, help="migrations directory or repository root (default: .)")
    check.add_argument("--junit-xml", type=Path, metavar="FILE", help="write a JUnit XML report to FILE")
    check.add_argument("--base-ref", metavar="REF", help="git ref of the base branch, for the history checks")
    check.add_argument("--format", choices=sorted(LAYOUTS), help="the migration layout (default: detected)")
    check.add_argument("--config", type=Path, metavar="FILE",
                       help="config file (default: .migration-check.yml or pyproject.toml)")
    source = check.add_mutually_exclusive_group()
    source.add_argument("--database-url", metavar="URL", help="use a throwaway database on this existing server")
    source.add_argument("--postgres-image", metavar="IMAGE", help="run PostgreSQL from this Docker image (testcontainers)")
    source.add_argument("--pg-bindir", type=Path, metavar="DIR", help="local PostgreSQL server binaries to use")
    check.add_argument("--setup", action="append", metavar="FILE|PRESET",
                       help="SQL run once before the first migration; a file or a preset (supabase). Repeatable")
    check.add_argument("--seed", action="append", metavar="FILE",
                       help="SQL that inserts rows, loaded once its tables exist; its rows are checked through"
                            " every later rollback. Repeatable")
    check.add_argument("--no-data", dest="data", action="store_false", default=None,
                       help="no generated rows, no data or integrity checks")
    check.add_argument("--rows", type=int, metavar="N", help="generated rows per table (default: 5)")
    check.add_argument("--var", dest="vars", action="append", metavar="NAME=VALUE",
                       help=VAR_HELP)
    check.add_argument("--sarif", type=Path, metavar="FILE", help="write a SARIF 2.1.0 report to FILE (code scanning)")
    check.add_argument("--report", type=Path, metavar="FILE.md", help="write the Markdown hygiene report to FILE.md")
    check.add_argument("--json", type=Path, metavar="FILE", help="write the whole run as JSON to FILE")
    check.add_argument("--drift-schema", type=Path, metavar="FILE",
                       help="the schema the migrations must build (pg_dump --schema-only output, db/schema.sql)")
    check.add_argument("--drift-url", metavar="URL", help="a live database to compare with, read only")
    check.add_argument("--drift-prisma", type=Path, metavar="FILE",
                       help="a schema.prisma the migrations must build (rendered by Prisma's engine; needs Node.js)")
    check.add_argument("--rollbacks", choices=[p.value for p in RollbackPolicy], help="whether rollbacks are required")
    check.add_argument("--fail-on", choices=[s.value for s in Severity],
                       help="lowest severity that fails the run (default: error)")
    check.add_argument("--strict-column-order", action="store_true", default=None,
                       help="a rollback must also restore column positions")
    check.add_argument("--no-annotations", dest="annotations", action="store_false", default=None,
                       help="no GitHub annotations (when run in GitHub Actions)")
    verbosity = check.add_mutually_exclusive_group()
    verbosity.add_argument("-q", "--quiet", action="store_true", default=None, help="only failures and the summary")
    verbosity.add_argument("-v", "--verbose", action="store_true", default=None, help="every test case and full diffs")

    baseline = commands.add_parser("baseline", help="write a first migration from a live database's schema")
    baseline.add_argument("--database-url", required=True, metavar="URL", help="the live database, only read")
    baseline.add_argument("--dir", dest="path", type=Path, help="migrations directory or repository root (default: .)")
    baseline.add_argument("--format", choices=sorted(LAYOUTS), help="the migration layout (default: detected)")
    baseline.add_argument("--pg-bindir", type=Path, metavar="DIR", help="where pg_dump is (default: as for check)")

    lint = commands.add_parser("lint", help="the static rules alone, without a database")
    lint.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="migration files or directories (default: .)")
    lint.add_argument("--junit-xml", type=Path, metavar="FILE", help="write a JUnit XML report to FILE")
    lint.add_argument("--format", dest="output", choices=["text", "json"], default="text", help="output format")
    lint.add_argument("--layout", dest="format", choices=sorted(LAYOUTS), help="the migration layout (default: detected)")
    lint.add_argument("--pg-version", type=int, metavar="N", help="PostgreSQL major version the rules assume (default 17)")
    lint.add_argument("--config", type=Path, metavar="FILE", help="config file")
    lint.add_argument("--fail-on", choices=[s.value for s in Severity], help="lowest severity that fails (default: error)")
    lint.add_argument("--var", dest="vars", action="append", metavar="NAME=VALUE",
                      help=VAR_HELP)

    new = commands.add_parser("new", help="create a correctly named migration (and rollback) for the detected format")
    new.add_argument("name", help="snake_case description, e.g. add_user_preferences")
    new.add_argument("--dir", dest="path", type=Path, help="migrations directory or repository root (default: .)")
    new.add_argument("--format", choices=sorted(LAYOUTS), help="the migration layout (default: detected)")
    new.add_argument("--config", type=Path, metavar="FILE", help="config file")
    return parser


def cli_values(args: argparse.Namespace) -> dict[str, Any]:
    """Only the flags the user gave, keyed by Settings field, so they override the config file."""
    values = {key: value for key, value in vars(args).items() if value is not None and key != "command"}
    if "name" in values and args.command == "new":
        values.pop("name")
    if args.command == "lint":
        values.pop("output", None)
        paths = values.pop("paths", [])
        if paths and "path" not in values:
            values["path"] = paths[0] if paths[0].is_dir() else paths[0].parent  # where the config is looked for
    if "pg_version" in values:
        version = pg_version(values["pg_version"])
        if version is None:
            raise UsageError(f"--pg-version {values['pg_version']}: expected a PostgreSQL major version such as 15")
        values["pg_version"] = version
    if "rollbacks" in values:
        values["rollbacks"] = RollbackPolicy(values["rollbacks"])
    if "rows" in values and not 1 <= values["rows"] <= 1000:
        raise UsageError(f"--rows {values['rows']}: expected a number of rows per table from 1 to 1000")
    if "fail_on" in values:
        values["fail_on"] = Severity(values["fail_on"])
    if "vars" in values:
        values["vars"] = dict(_var(given) for given in values["vars"])
    return values


def _var(given: str) -> tuple[str, str]:
    name, equals, value = given.partition("=")
    if not equals or not name.strip():
        raise UsageError(f"--var {given}: expected NAME=VALUE")
    return name.strip(), value


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # psycopg logs the rollback it could not do after an interruption; the run reports it itself.
    logging.getLogger("psycopg").addHandler(logging.NullHandler())
    logging.getLogger("psycopg").propagate = False
    console = Console(out=sys.stdout)
    try:
        args = build_parser().parse_args(argv)
        settings = resolve_settings(cli_values(args))
    except MigrationCheckError as exc:
        print(printable(f"migration-check: error: {exc.one_line()}"), file=sys.stderr)
        _write_junit_for_early_error(argv, exc.one_line())
        return 2
    if args.command == "new":
        return _new(settings, args.name)
    if args.command == "lint":
        return _lint(args, settings)
    if args.command == "baseline":
        return _baseline(settings)
    console = Console(out=sys.stdout, quiet=settings.quiet, verbose=settings.verbose, fail_on=settings.fail_on)
    with _user_text_cannot_run_workflow_commands():
        with signals.raise_interrupted():
            report = run_check(settings, console)
        return finish(report, settings, console)


def run_check(settings: Settings, console: Console) -> RunReport:
    """Discover, check names and history, then replay on a disposable database. Never raises for
    a usage, infrastructure or interruption problem: it ends up in `report.error`."""
    started = time.perf_counter()
    report = RunReport(project=None, results=[])
    finished: set[str] = set()
    try:
        _announce_github(settings)
        project = discover(settings.path, settings.format, ignore=settings.ignore, values=settings.vars)
        report.project = project
        console.project(project)
        static = static_checks(project, settings)
        report.results.extend(static)
        console.static_results(static)
        scope = merged_scope(project, settings)
        setup = setup_scripts(project, settings.setup, within_repository=not settings.setup_from_command_line)
        if settings.data:  # a seed file that is not there is a usage error before any server starts
            seed_scripts(project, settings.seed, within_repository=not settings.seed_from_command_line)
        with make_provider(settings, *wanted_extensions(project, setup), repo_root=project.repo_root) as database:
            report.server = database.description
            console.server(database.description)
            # The replay owns its connection: a rebuild of the state swaps it for another database's.
            try:
                with contextlib.closing(Replay(project, connect(database.conninfo, settings.migration_session()), settings,
                                               admin=connect(database.admin),
                                               server_problem=database.server_problem)) as replay:
                    locks = next((f for f in replay.families if isinstance(f, Locks)), None)
                    ahead = LintAhead(project, settings, replay.conn.info.server_version)
                    replay.while_waiting = lambda migration: ahead.migration(
                        migration, locks.observed.get(migration.id) if locks else None)
                    replay.merged_files = scope.files
                    replay.run_setup(setup)
                    for outcome in replay.outcomes():
                        scope.apply(outcome.results)
                        _record(report, outcome, console, finished)
                    scope.apply(replay.run_results)
                    report.results.extend(replay.run_results)
                    console.static_results(replay.run_results)
                    # The static rules, knowing the replayed server's version.
                    observed = locks.observed if locks is not None else {}
                    lint = project_lint(project, settings, replay.conn.info.server_version, observed, ahead.done)
                    scope.apply(lint)
                    report.results.extend(lint)
                    console.static_results(lint)
                    drift = drift_cases(project, settings, replay)
                    report.results.extend(drift)
                    console.static_results(drift)
            except (psycopg.Error, InfrastructureError) as exc:
                cause = database.server_problem()  # read now: leaving the provider removes the log
                if not cause:
                    raise
                text = exc.one_line() if isinstance(exc, InfrastructureError) else " ".join(str(exc).split())
                raise InfrastructureError(f"{text}; the server says: {cause}") from None
    except SetupFailed as exc:
        report.error = str(exc)
    except MigrationCheckError as exc:
        report.error = exc.one_line()
    except psycopg.Error as exc:
        report.error = f"PostgreSQL: {' '.join(str(exc).split())}"
    except OSError as exc:
        report.error = f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")
    except Exception as exc:  # noqa: BLE001 - a bug of the tool's own: one line, and every report still written
        report.error = internal_error(exc)
        if settings.verbose:
            traceback.print_exception(exc, file=sys.stderr)
    if report.error and report.project is not None:
        reason = f"not run: {report.error}"
        for migration in report.project.migrations:
            if migration.id not in finished:
                _record(report, skipped_outcome(report.project, migration, reason), console, finished, show=False)
    report.seconds = time.perf_counter() - started
    return report


def finish(report: RunReport, settings: Settings, console: Console) -> int:
    """The summary and the reports, written whatever happened (even on a second Ctrl-C)."""
    with signals.ignored():
        console.summary(report)
        if not _write_reports(report, settings, console if not settings.quiet else None):
            return 2
        _publish_github(report, settings)
    return report.exit_code(settings.fail_on)


def _write_reports(report: RunReport, settings: Settings, console: Console | None = None) -> bool:
    """The report files asked for, each named on `console`; False (after a one-line error) when one
    cannot be written."""
    writers: list[tuple[str, Path | None, Callable[[RunReport, Path, Severity], None]]] = [
        ("junit", settings.junit_xml, junit.write), ("sarif", settings.sarif, sarif.write),
        ("report", settings.report, markdown.write), ("json", settings.json, run_json.write)]
    for label, path, write in writers:
        if path is None:
            continue
        try:
            write(report, path, settings.fail_on)
            if console is not None:
                console.say(f"{label}: {path}")
        except OSError as exc:
            print(f"migration-check: error: cannot write {path}: {exc.strerror}", file=sys.stderr)
            return False
    return True


def _record(report: RunReport, outcome: MigrationOutcome, console: Console, finished: set[str], show: bool = True) -> None:
    report.results.extend(outcome.results)
    finished.add(outcome.migration.id)
    if show:
        console.migration(outcome)


def _in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


@contextlib.contextmanager
def _user_text_cannot_run_workflow_commands() -> Iterator[None]:
    """In GitHub Actions, user SQL and PostgreSQL messages printed verbatim must not be taken for
    workflow commands (`::set-output`, `::add-mask`, ...)."""
    if not _in_github_actions():
        yield
        return
    from migration_check.reports import github

    with github.commands_stopped(sys.stdout):
        yield


def _announce_github(settings: Settings) -> None:
    if _in_github_actions():
        from migration_check.reports import github

        github.mask_secrets(settings, sys.stdout)


def _publish_github(report: RunReport, settings: Settings) -> None:
    if _in_github_actions():
        from migration_check.reports import github

        github.publish(report, settings, settings.junit_xml)


def _lint(args: argparse.Namespace, settings: Settings) -> int:
    from migration_check.lint.command import as_json, run_lint

    console = Console(out=sys.stdout, quiet=args.output == "json", fail_on=settings.fail_on)
    report = run_lint(list(args.paths), settings)
    if args.output == "json":
        print(as_json(report))
    else:
        console.static_results(report.results, skipped=True)
        console.summary(report)
    if not _write_reports(report, settings):
        return 2
    return report.exit_code(settings.fail_on)


def _baseline(settings: Settings) -> int:
    from migration_check.drift.baseline import write_baseline

    return _files_made(lambda: write_baseline(settings))


def _new(settings: Settings, name: str) -> int:
    from migration_check.scaffold import new_migration

    return _files_made(lambda: new_migration(settings, name))


def _files_made(make: Callable[[], tuple[list[Path], list[Path]]]) -> int:
    """Run a command that writes migration files: the files it made and those it brought up to
    date (atlas.sum), or its error in one line."""
    try:
        created, updated = make()
    except MigrationCheckError as exc:
        print(printable(f"migration-check: error: {exc.one_line()}"), file=sys.stderr)
        return 2
    for path in created:
        print(f"created {path}")
    for path in updated:
        print(f"updated {path}")
    return 0


def _write_junit_for_early_error(argv: list[str], message: str) -> None:
    """Even a bad command line leaves a JUnit file where one was asked for, if we can tell where."""
    target = None
    for index, arg in enumerate(argv):
        if arg == "--junit-xml" and index + 1 < len(argv):
            target = argv[index + 1]
        elif arg.startswith("--junit-xml="):
            target = arg.split("=", 1)[1]
    if target:
        with contextlib.suppress(OSError):
            junit.write(RunReport(project=None, results=[], error=message), Path(target))
