"""Everything that talks to the GitHub Actions runner, in one place.

The runner is driven by lines on stdout (workflow commands: annotations, masks, stop-commands) and
by files it names in the environment (`GITHUB_STEP_SUMMARY`, `GITHUB_OUTPUT`). The environment is
read once, into `Runner`; nothing else in the tool looks at `GITHUB_*` or `INPUT_*`.

Anything a user wrote (SQL, file names) or PostgreSQL said is untrusted here: in a command it is
escaped, and verbatim on stdout it must sit inside `commands_stopped()`, so that a migration
containing `::set-output ...` or `::add-mask::` at the start of a line is just text.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from migration_check.model import CHECK_FAMILIES, CheckResult, RunReport, Severity, Status
from migration_check.reports import markdown
from migration_check.servers.url import url_secrets
from migration_check.settings import Settings

# GitHub shows at most 10 error and 10 warning annotations per step (50 per job); more are dropped
# silently, so we choose which ones are seen.
ANNOTATIONS_PER_LEVEL = 10
ANNOTATION_DETAIL_LINES = 10
# Most important first: a migration that does not apply or roll back beats a style finding.
PRIORITY: tuple[str, ...] = (
    "apply", "rollback", "roundtrip", "reapply", "verify", "data", "integrity", "locks", "drift",
    "history", "pairing", "lint", "naming",
)
SUMMARY_BUDGET = 900_000  # bytes; GitHub refuses a step summary over 1 MiB
SUMMARY_DETAIL_LINES = 20
ICONS = {"passed": "✅", "failed": "❌", "warning": "⚠️", "skipped": "⏭"}


@dataclass(frozen=True)
class Runner:
    """What the runner told us through the environment."""

    active: bool
    step_summary: Path | None
    output: Path | None
    workspace: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Runner:
        def path(name: str) -> Path | None:
            return Path(env[name]) if env.get(name) else None

        return cls(
            active=env.get("GITHUB_ACTIONS") == "true",
            step_summary=path("GITHUB_STEP_SUMMARY"),
            output=path("GITHUB_OUTPUT"),
            workspace=path("GITHUB_WORKSPACE") or Path.cwd(),
        )


def action_input(env: Mapping[str, str], name: str, default: str = "") -> str:
    """An `inputs:` value of the action. The runner keeps hyphens (`INPUT_BASE-REF`); an
    underscore spelling is accepted too, for shells that cannot set such a variable."""
    key = "INPUT_" + name.replace(" ", "_").upper()
    for candidate in (key, key.replace("-", "_")):
        if candidate in env:
            return env[candidate].strip()
    return default


# --- escaping --------------------------------------------------------------------------------------

def escape_data(text: str) -> str:
    """The message part of a workflow command: one line, whatever it contains."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A `key=value` property: additionally no `:` (ends the properties) or `,` (next property)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: object) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}"
                     for key, value in properties.items() if value not in (None, ""))
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


# --- stop-commands ---------------------------------------------------------------------------------

class _State:
    """Per process: the open stop-commands token (our own commands step out of the block), the
    values already masked, and whether the reports were published."""

    token: str | None = None
    masked: set[str] = set()
    published: bool = False


def published() -> bool:
    return _State.published


def _emit(out: TextIO, lines: Iterable[str]) -> None:
    """Print workflow commands, leaving a stop-commands block for them if one is open."""
    lines = list(lines)
    if not lines:
        return
    token = _State.token
    if token:
        print(f"::{token}::", file=out)
    for line in lines:
        print(line, file=out)
    if token:
        _State.token = _new_token()
        print(f"::stop-commands::{_State.token}", file=out)
    out.flush()


def _new_token() -> str:
    return "migration-check-" + secrets.token_hex(16)


@contextlib.contextmanager
def commands_stopped(out: TextIO | None = None, env: Mapping[str, str] | None = None) -> Iterator[None]:
    """Within the block the runner executes no workflow command found on stdout (user SQL and
    PostgreSQL messages are printed verbatim there). Our own annotations and masks step out of it.
    Re-entrant; a no-op outside GitHub Actions."""
    out = out or sys.stdout
    if not Runner.from_env(os.environ if env is None else env).active or _State.token:
        yield
        return
    _State.token = _new_token()
    print(f"::stop-commands::{_State.token}", file=out, flush=True)
    try:
        yield
    finally:
        token, _State.token = _State.token, None
        out.flush()
        print(f"::{token}::", file=out, flush=True)


# --- masking ---------------------------------------------------------------------------------------

def secrets_in(settings: Settings) -> list[str]:
    """The passwords of `database-url` and `drift-url`, as written (percent-encoded) and decoded,
    even from a URL that no parser accepts (servers/url.py)."""
    return [secret for url in (settings.database_url, settings.drift_url) if url for secret in url_secrets(url)]


def mask_secrets(settings: Settings, out: TextIO | None = None, env: Mapping[str, str] | None = None) -> None:
    """`::add-mask::` for every secret in the settings: call before anything can print them."""
    if not Runner.from_env(os.environ if env is None else env).active:
        return
    new = [value for value in secrets_in(settings) if value not in _State.masked]
    _State.masked.update(new)
    # One command per line: a multi-line value would end the command at its first newline.
    _emit(out or sys.stdout, (f"::add-mask::{line}" for value in new for line in value.splitlines() if line.strip()))


# --- annotations -----------------------------------------------------------------------------------

def _priority(result: CheckResult) -> int:
    return PRIORITY.index(result.check) if result.check in PRIORITY else len(PRIORITY)


def important_first(report: RunReport, fail_on: Severity) -> list[CheckResult]:
    """The findings: those that fail the run first, then by family priority; within one family the
    report's (replay) order, as the sort is stable."""
    findings = [r for r in report.results if r.status is Status.FAILED]
    return sorted(findings, key=lambda r: (not r.counts_as_failure(fail_on), _priority(r)))


def _first_lines(text: str, limit: int, rest_is_in: str) -> str:
    lines = text.splitlines()
    if len(lines) <= limit:
        return text
    return "\n".join(lines[:limit] + [f"... ({len(lines) - limit} more lines in {rest_is_in})"])


def annotation_commands(report: RunReport, fail_on: Severity, report_hint: str) -> list[str]:
    """Workflow commands for the findings, most important first, within GitHub's per-step limits."""
    lines: list[str] = []
    if report.error:
        lines.append(command("error", report.error, title="migration-check could not finish"))
    shown = {"error": len(lines), "warning": 0}
    hidden = 0
    for result in important_first(report, fail_on):
        level = "error" if result.counts_as_failure(fail_on) else "warning"
        if shown[level] >= ANNOTATIONS_PER_LEVEL:
            hidden += 1
            continue
        shown[level] += 1
        lines.append(command(level, _annotation_message(result), file=result.file, line=result.line,
                             title=f"{result.check}: {result.subject}"))
    if hidden:
        lines.append(command("notice", f"{hidden} more findings are not annotated here (GitHub shows"
                             f" {ANNOTATIONS_PER_LEVEL} per step); all are in {report_hint}.",
                             title="migration-check: more findings"))
    return lines


def _annotation_message(result: CheckResult) -> str:
    message = result.message or f"{result.check} failed"
    extra = result.details_beyond_message()
    if extra:
        message += "\n" + _first_lines(extra, ANNOTATION_DETAIL_LINES, "the job summary and JUnit report")
    return message


# --- job summary -----------------------------------------------------------------------------------

def _cell(text: str) -> str:
    """Table-cell text: no line breaks, no column breaks, no raw HTML."""
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    """Inline code that survives backticks in the text."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _fenced(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`{3,}", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _state(result: CheckResult, fail_on: Severity) -> str:
    if result.status is Status.FAILED:
        return "failed" if result.counts_as_failure(fail_on) else "warning"
    return result.status.value


def verdict(report: RunReport, fail_on: Severity) -> str:
    return {0: "passed", 1: "failed", 2: "error"}[report.exit_code(fail_on)]


def summary_markdown(report: RunReport, fail_on: Severity, report_hint: str) -> str:
    failed = len(report.failures(fail_on))
    warnings = report.count(Status.FAILED) - failed
    counts = f"{report.count(Status.PASSED)} passed, {failed} failed, {report.count(Status.SKIPPED)} skipped"
    if warnings:
        counts += f", {warnings} warnings"
    icon = {"passed": ICONS["passed"], "failed": ICONS["failed"], "error": "💥"}[verdict(report, fail_on)]
    parts = [f"## {icon} migration-check: {counts}", ""]
    if report.error:
        parts += [f"**The run could not finish:** {_cell(report.error)}", ""]
    facts = []
    if report.project is not None:
        where = report.project.relative(report.project.directory) or "."
        facts.append(f"{len(report.project.migrations)} migrations in {_code(where)} ({_cell(report.project.format)})")
    if report.server:
        facts.append(_cell(report.server))
    facts.append(f"{report.seconds:.1f}s")
    parts += [" · ".join(facts), ""]
    parts += _matrix(report, fail_on)
    # The hygiene report's sections (the same renderer as --report), one heading level down.
    hygiene = markdown.render(report, fail_on).split("\n", 2)[2]
    parts += [line.replace("## ", "### ", 1) if line.startswith("## ") else line for line in hygiene.splitlines()]
    parts += _failure_sections(report, fail_on, report_hint)
    return "\n".join(parts) + "\n"


def _matrix(report: RunReport, fail_on: Severity) -> list[str]:
    """Rows: migrations (or files) in report order; columns: check families in report order."""
    if not report.results:
        return []
    families = [f for f in CHECK_FAMILIES if any(r.check == f for r in report.results)]
    families += sorted({r.check for r in report.results} - set(families))
    cells: dict[str, dict[str, str]] = {}
    rank = {"failed": 3, "warning": 2, "passed": 1, "skipped": 0}
    rows = _rows_by_file(report)
    for result in report.results:
        row = cells.setdefault(rows.get(result.file or "", result.subject), {})
        state = _state(result, fail_on)
        if rank[state] >= rank.get(row.get(result.check, ""), -1):
            row[result.check] = state  # several cases in one cell: the worst shows
    lines = ["| migration | " + " | ".join(families) + " |", "|---|" + "---|" * len(families)]
    for subject, row in cells.items():
        lines.append(f"| {_cell(subject)} | " + " | ".join(ICONS.get(row.get(f, ""), "") for f in families) + " |")
    lines += ["", f"{ICONS['passed']} passed · {ICONS['failed']} failed · {ICONS['warning']} warning"
              f" (does not fail the run) · {ICONS['skipped']} skipped", ""]
    return lines


def _rows_by_file(report: RunReport) -> dict[str, str]:
    """Per-file results (naming of a rollback file, say) go on their migration's row."""
    if report.project is None:
        return {}
    rows: dict[str, str] = {}
    for migration in report.project.migrations:
        scripts = [s.path for s in (migration.up, migration.down, migration.verify) if s is not None]
        for path in (*scripts, *migration.files):
            rows[report.project.relative(path) or ""] = migration.id
    return rows


def _failure_sections(report: RunReport, fail_on: Severity, report_hint: str) -> list[str]:
    findings = important_first(report, fail_on)
    if not findings:
        return []
    lines = ["### Findings", ""]
    used = 0
    for index, result in enumerate(findings):
        where = f"{result.file}:{result.line}" if result.file and result.line else result.file or ""
        block = [f"**{_state(result, fail_on)} · {_cell(result.check)} · {_cell(result.subject)}**"
                 + (f" — {_code(where)}" if where else ""), ""]
        body = f"{result.message}\n{result.details_beyond_message()}".strip()
        block += [_fenced(_first_lines(body, SUMMARY_DETAIL_LINES, report_hint)), ""]
        text = "\n".join(block)
        if used + len(text.encode()) > SUMMARY_BUDGET:
            lines.append(f"... and {len(findings) - index} more findings, in {report_hint}.")
            break
        used += len(text.encode())
        lines.append(text)
    return lines


# --- outputs ---------------------------------------------------------------------------------------

def output_lines(name: str, value: str) -> str:
    """One `GITHUB_OUTPUT` entry; the heredoc form when the value could break the `name=value` line."""
    if "\n" in value or "\r" in value:
        delimiter = "ghadelimiter_" + secrets.token_hex(16)
        return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"
    return f"{name}={value}\n"


def workspace_relative(path: Path | None, workspace: Path) -> str:
    """As the next step sees it (it runs in the workspace); absolute when outside it."""
    if path is None:
        return ""
    absolute = (Path.cwd() / path).resolve()
    try:
        return absolute.relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return str(absolute)


def outputs(report: RunReport, fail_on: Severity, junit: str) -> dict[str, str]:
    return {
        "junit-xml": junit,
        "passed": str(report.count(Status.PASSED)),
        "failed": str(len(report.failures(fail_on))),
        "skipped": str(report.count(Status.SKIPPED)),
        "result": verdict(report, fail_on),
    }


# --- the one call at the end of a run --------------------------------------------------------------

def publish(
    report: RunReport,
    settings: Settings,
    junit_path: Path | None,
    env: Mapping[str, str] = os.environ,
    out: TextIO | None = None,
) -> None:
    """Annotations on stdout, the job summary and the step outputs. Does nothing outside Actions;
    a runner file that cannot be written is reported on stderr, never fatal."""
    runner = Runner.from_env(env)
    if not runner.active:
        return
    _State.published = True
    out = out or sys.stdout
    junit = workspace_relative(junit_path, runner.workspace)
    full_report = f"the JUnit report ({junit})" if junit else "the step log"
    if settings.annotations:
        _emit(out, annotation_commands(report, settings.fail_on, full_report if junit else "the job summary"))
    if runner.step_summary is not None:
        _append(runner.step_summary, summary_markdown(report, settings.fail_on, full_report))
    if runner.output is not None:
        _append(runner.output, "".join(output_lines(k, v) for k, v in outputs(report, settings.fail_on, junit).items()))


def _append(path: Path, text: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        print(f"migration-check: warning: cannot write {path}: {exc.strerror}", file=sys.stderr)
