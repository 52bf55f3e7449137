"""The container action's entry point: `python -m migration_check.action`.

The runner passes the `with:` inputs as `INPUT_*` variables; they become the same command line a
user would type, so the action and the CLI cannot drift apart. This process is PID 1 in the action
container: it must handle SIGTERM itself (the kernel ignores unhandled signals for PID 1), and the
CLI turns SIGINT/SIGTERM into a clean shutdown that still writes the JUnit file.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from types import FrameType

from migration_check.model import RunReport
from migration_check.reports import github
from migration_check.settings import Settings

DEFAULT_JUNIT = "migration-check.xml"
# input name -> CLI flag, for inputs passed through when non-empty.
FLAGS = {
    "format": "--format",
    "config": "--config",
    "base-ref": "--base-ref",
    "postgres-image": "--postgres-image",
    "database-url": "--database-url",
    "fail-on": "--fail-on",
    "sarif": "--sarif",
    "report": "--report",
    "drift-schema": "--drift-schema",
    "drift-url": "--drift-url",
}
ON, OFF = {"on", "true", "yes", "1"}, {"off", "false", "no", "0"}


class InputError(ValueError):
    pass


def argv_from_inputs(env: Mapping[str, str]) -> list[str]:
    """`check <path> --junit-xml ...` from the action's inputs."""
    argv = ["check", github.action_input(env, "path") or ".",
            "--junit-xml", github.action_input(env, "junit-xml") or DEFAULT_JUNIT]
    for name, flag in FLAGS.items():
        value = github.action_input(env, name)
        if value:
            argv += [flag, value]
    for item in split_list(github.action_input(env, "setup")):
        argv += ["--setup", item]
    for line in github.action_input(env, "vars").splitlines():  # (a value may hold a comma)
        if line.strip():
            argv += ["--var", line.strip()]
    annotations = (github.action_input(env, "annotations") or "on").lower()
    if annotations in OFF:
        argv.append("--no-annotations")
    elif annotations not in ON:
        raise InputError(f"input annotations must be on or off, not {annotations!r}")
    return argv


def split_list(value: str) -> list[str]:
    """A list input: one item per line or comma-separated (YAML `|` blocks and one-liners alike)."""
    return [item.strip() for line in value.splitlines() for item in line.split(",") if item.strip()]


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    # Outside the CLI's own handlers (start-up, after the reports): just stop, with the shell's code.
    raise SystemExit(128 + signum)


def main(env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_on_signal)
    try:
        argv = argv_from_inputs(env)
    except InputError as exc:
        print(f"migration-check: error: {exc}", file=sys.stderr)
        _publish_error(env, str(exc), annotations=True)
        return 2
    # Before anything can print it: the runner replaces the password by *** in the log from here on.
    github.mask_secrets(Settings(database_url=github.action_input(env, "database-url") or None,
                                 drift_url=github.action_input(env, "drift-url") or None), sys.stdout, env)
    from migration_check import cli  # after the handlers: importing pulls in most of the tool

    with github.commands_stopped(sys.stdout, env):
        code = cli.main(argv)
        if not github.published():
            # The CLI stopped before its reports (a bad input): the step still gets its outputs.
            _publish_error(env, "migration-check did not run; see the step log", "--no-annotations" not in argv)
    return code


def _publish_error(env: Mapping[str, str], message: str, annotations: bool) -> None:
    report = RunReport(project=None, results=[], error=message)
    github.publish(report, Settings(annotations=annotations), None, env)


if __name__ == "__main__":
    sys.exit(main())
