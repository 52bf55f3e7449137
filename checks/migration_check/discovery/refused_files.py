"""A migration file its runner refuses to read (an unclosed `-- +goose StatementBegin`, a dbmate
down marker before its up, an incomplete sql-migrate command): a history failure at its line, and
the migration skipped with the same words, instead of a run that stops there with no verdict for
any other migration. The runner applies the migrations before it and stops at it; the ones after it
are judged as they would run once it is mended (those that need what it makes are "not judged")."""

from __future__ import annotations

from pathlib import Path

from migration_check.errors import FileError
from migration_check.model import Migration, Refusal


def refused_file(error: FileError, path: Path, version: str, name: str, sort_key: tuple,
                 runner: str) -> tuple[Migration, Refusal]:
    """The skipped migration of a file `runner` refuses, and the refusal at the line `error` names."""
    refusal, reason = refused(path, error.line or 1, error.message, runner)
    return Migration(version, name, sort_key, up=None, files=(path,), refused=True, skip_reason=reason), refusal


def refused(path: Path, line: int, message: str, runner: str, what: str = "refuses the file") -> tuple[Refusal, str]:
    """The refusal at `path`:`line`, and the same words as the reason its migration (or one
    direction of it) is skipped: "`runner` `what` (line N): `message`"."""
    return Refusal(path, line, message), f"{runner} {what} (line {line}): {message}"
