"""Typed errors. Each carries the data a one-line message needs, so the CLI never prints a traceback.

`UsageError` and `InfrastructureError` both end a run with exit code 2; findings about the
migrations themselves are never exceptions, they are `CheckResult`s.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from pathlib import Path

import yaml


class MigrationCheckError(Exception):
    """Base of every error the CLI turns into a one-line message and exit code 2."""

    exit_code = 2

    def one_line(self) -> str:
        return " ".join(str(self).split())


class UsageError(MigrationCheckError):
    """The user asked for something that cannot work: a bad flag, an empty directory, an ambiguous format."""


class NoMigrationsFound(UsageError):
    """No layout recognises anything at or under the path (where `new` starts a project)."""


class InfrastructureError(MigrationCheckError):
    """Postgres, Docker or git could not be used."""


@dataclass
class FileError(MigrationCheckError):
    """A problem located in a file: a config key, an undecodable migration, a malformed plan."""

    path: Path | str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else f"{self.path}"
        return f"{where}: {self.message}"


def read_utf8(path: Path) -> str:
    """A text file the repository holds (a migration, a config file): a FileError at the line of
    its first byte that is not UTF-8, never a traceback."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileError(path, line, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


class ConfigError(FileError):
    """A configuration file has an unknown key, a wrong type or bad YAML/TOML."""


class Interrupted(MigrationCheckError):
    """Ctrl-C or SIGTERM: the run stops, cleans up and still writes its reports."""

    def __init__(self, signal_name: str = "SIGINT") -> None:
        super().__init__(f"interrupted by {signal_name}")
        self.signal_name = signal_name


def internal_error(exc: Exception) -> str:
    """One line for a bug of the tool's own (an exception no check expects): what it was and where in
    migration-check's code, so that it can be reported; the run still writes its reports."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [frame for frame in frames if "migration_check" in frame.filename] or frames
    where = f" at {Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else ""
    text = " ".join(str(exc).split())
    return (f"internal error of migration-check ({type(exc).__name__}{': ' + text if text else ''}){where}: please"
            " report it, with --verbose's traceback")


def read_yaml(path: Path, refusal: str) -> object:
    """A YAML file of the project, loaded; not YAML is a FileError at its line, `refusal` saying
    what refuses it."""
    try:
        return yaml.safe_load(read_utf8(path))
    except yaml.YAMLError as exc:
        # The parser's own words, on one line: its str() adds the offending line and a caret.
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        words = getattr(exc, "problem", None) or getattr(exc, "context", None) or " ".join(str(exc).split())
        raise FileError(path, mark.line + 1 if mark else None, f"{refusal}: {words}") from None
