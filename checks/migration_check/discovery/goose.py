"""goose (pressly/goose): `<version>_<name>.sql` with annotated sections, or `<version>_<name>.go`.

    -- +goose Up
    -- +goose StatementBegin
    create function touch() returns trigger language plpgsql as $$ ... $$;
    -- +goose StatementEnd

    -- +goose Down
    drop function touch();

Rules, as goose applies them:
- The version is the integer before the first `_`; files run in version order. `.go` files are
  migrations written in Go: they are reported as skipped (not SQL), and the SQL ones around them
  still run. `_test.go` files are not migrations.
- Annotations are comment lines `-- +goose <word>`, matched case-insensitively as goose does
  (`-- +goose no transaction` works): Up, Down, StatementBegin, StatementEnd, NO TRANSACTION,
  ENVSUB ON/OFF. goose reads them line by line, so this module does too. An unknown annotation is
  a FileError (goose refuses the file).
- `StatementBegin`/`StatementEnd` make the enclosed text one statement, sent as is. The rest of
  a section is split by the SQL parser. The boundaries reach the executor through
  `Script.statements`.
- `NO TRANSACTION` anywhere in the file runs both directions outside a transaction.
- `ENVSUB ON` ... `ENVSUB OFF`: goose expands environment variables in those lines
  (goose_envsub.py); a direction that needs one the check does not have is not replayed.
- A file without `-- +goose Down` has no rollback; an empty Down section is a rollback that does
  nothing (and the round trip shows what it leaves behind).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pglast import parser

from migration_check.discovery import bookkeeping
from migration_check.discovery.base import (
    Detection,
    Discovery,
    FailedAt,
    Layout,
    counted,
    implicit_empty_downs,
    read_head,
    read_sql,
    section,
    split_lines,
    utc_timestamp,
    version_sort_key,
)
from migration_check.discovery.deploy_values import given
from migration_check.discovery.goose_envsub import SubstitutionError, expand
from migration_check.discovery.listing import candidate_files
from migration_check.discovery.locate import dotenv_tables
from migration_check.discovery.refused_files import refused_file
from migration_check.errors import FileError
from migration_check.model import Migration, RollbackPolicy, Script, StrayFile, Transaction
from migration_check.sql.dialects import SYNTAX_ERROR

FILE = re.compile(r"^(?P<version>\d+)_(?P<name>.+)\.(?P<ext>sql|go)$", re.IGNORECASE)
ANNOTATIONS = frozenset({"up", "down", "statementbegin", "statementend", "no transaction", "envsub on", "envsub off"})
GO_SKIP = "Go migration: goose runs it through its Go API, it is not SQL that can be replayed"


class GooseLayout(Layout):
    name = "goose"
    description = "<version>_<name>.sql with -- +goose Up / -- +goose Down (and .go migrations)"
    # A file without -- +goose Down has an empty down (goose's parser): the round trip judges it.
    default_rollbacks = RollbackPolicy.OPTIONAL
    conventional_dirs = ("migrations", "db/migrations", "sql/migrations", "internal/db/migrations", "sql/schema")
    # goose's NumericComponent: `<int64 >= 1>_<anything>.sql|.go`; other extensions are ignored.
    naming_pattern = r"^0*[1-9]\d*_.*\.(sql|go)$"
    naming_hint = "<version>_<name>.sql with -- +goose Up / -- +goose Down"
    strict_naming_pattern = r"^\d+_[a-z][a-z0-9]*(_[a-z0-9]+)*\.(sql|go)$"
    strict_naming_hint = "<version>_snake_case_name.sql with -- +goose Up / -- +goose Down"
    numeric_versions = True
    bookkeeping = bookkeeping.GOOSE
    transaction_opt_out = "run it outside one, with `-- +goose NO TRANSACTION` in the file"
    # migrate.go (Migrations.Less) and provider_collect.go refuse the whole set.
    duplicate_refusal = 'goose runs none of the migrations then ("duplicate version {version} detected")'

    def history_tables(self, directory: Path) -> frozenset[str]:
        # `-table`, or GOOSE_TABLE in the environment or the .env goose loads (cmd/goose/main.go).
        return super().history_tables(directory) | dotenv_tables(directory, "GOOSE_TABLE")

    def detect(self, directory: Path) -> Detection | None:
        annotated = go = sql = 0
        for path in candidate_files(directory):
            match = FILE.match(path.name)
            if not match or path.name.endswith("_test.go"):
                continue
            head = read_head(path)
            if match["ext"].lower() == "go":
                go += "goose" in head
            else:
                sql += 1
                annotated += any(_annotation(line) == "up" for line in head.split("\n"))
        # goose refuses a .sql file without `-- +goose Up`: a directory where most lack it is some
        # other runner's (a Supabase project with one file that carries goose's comments).
        if not go and annotated * 2 < sql:
            return None
        if not annotated and not go:
            return None
        why = counted(annotated, "file") + " with -- +goose Up annotations"
        if go:
            why += f", {go} Go migration{'s' if go > 1 else ''}"
        return Detection(score=90, reason=why)

    def discover(self, directory: Path) -> Discovery:
        migrations, stray, refusals = [], [], []
        for path in candidate_files(directory):
            match = FILE.match(path.name)
            if not match or path.name.endswith("_test.go"):
                # goose refuses a .sql file without a version; it ignores other files.
                refused = path.suffix.lower() == ".sql"
                why = f"goose cannot read a version from it ({self.naming_hint})" if refused else "goose ignores it"
                stray.append(StrayFile(path, why, refused=refused))
                continue
            version, name = match["version"], match["name"]
            key = version_sort_key(str(int(version))) + (name,)
            if match["ext"].lower() == "go":
                migrations.append(Migration(version, name, key, up=None, files=(path,), skip_reason=GO_SKIP))
                continue
            try:
                parsed = parse_file(path)
            except FileError as refused:
                migration, refusal = refused_file(refused, path, version, name, key, "goose")
                migrations.append(migration)
                refusals.append(refusal)
                continue
            if parsed is None:
                stray.append(StrayFile(path, "no -- +goose Up annotation (goose refuses such a file)", refused=True))
                continue
            # goose's parser accepts a file without -- +goose Down: its down runs nothing. The
            # round trip shows whether that empty rollback is an inverse (for an empty up it is),
            # unless no file has a Down (implicit_empty_downs: a forward-only project).
            migrations.append(Migration(version, name, key, up=parsed.up, down=parsed.down, files=(path,),
                                        skip_reason=parsed.up_refused, down_skip_reason=parsed.down_refused))
        migrations.sort(key=lambda m: m.sort_key)
        return implicit_empty_downs(Discovery(migrations, stray, refusals=refusals))

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        text = (
            "-- +goose Up\n-- +goose StatementBegin\n\n-- +goose StatementEnd\n\n"
            "-- +goose Down\n-- +goose StatementBegin\n\n-- +goose StatementEnd\n"
        )
        return {directory / f"{utc_timestamp(now)}_{name}.sql": text}

    def failure_hint(self, failed: FailedAt) -> str | None:
        # A dollar quote inside an ENVSUB section: goose's substitution reads `$$` as an escaped `$`,
        # so PostgreSQL is sent `DO $ ...`, and its syntax error names neither goose nor the `$$`.
        if failed.sqlstate != SYNTAX_ERROR or failed.line is None or failed.path.suffix.lower() != ".sql":
            return None
        try:
            lines = split_lines(read_sql(failed.path))
            substituted = _environment_substituted(failed.path, lines, _annotations(lines))
        except (OSError, FileError):
            return None
        at = failed.line - 1
        start = next((on for on, off in substituted.sections if on < at < off), None)
        quoted = [index for index in substituted.collapsed if start is not None and start < index <= at]
        if not quoted:
            return None
        return (f"(goose's -- +goose ENVSUB ON reads `$$` as an escaped `$`: line {quoted[0] + 1} reaches PostgreSQL"
                " with its dollar quotes halved, as when goose runs it; end the section before the quoted body"
                " (-- +goose ENVSUB OFF) or double each `$` of its quotes)")


@dataclass(frozen=True)
class GooseFile:
    up: Script
    down: Script | None
    up_refused: str | None = None  # why the up is not replayed (it needs the deploy's environment)
    down_refused: str | None = None


def parse_file(path: Path) -> GooseFile | None:
    """The up and down of one goose SQL file, or None when it has no Up annotation."""
    lines = split_lines(read_sql(path))
    found = _annotations(lines)
    for index, kind in found:
        if kind not in ANNOTATIONS:
            raise FileError(path, index + 1, f"unknown goose annotation {lines[index].strip()!r}")
    substituted = _environment_substituted(path, lines, found)
    lines, needs = substituted.lines, substituted.needs
    ups = [index for index, kind in found if kind == "up"]
    downs = [index for index, kind in found if kind == "down"]
    if not ups:
        return None
    if len(ups) > 1 or len(downs) > 1:
        raise FileError(path, (ups[1:] or downs[1:])[0] + 1, "a second -- +goose Up/Down annotation")
    if downs and downs[0] < ups[0]:
        raise FileError(path, downs[0] + 1, "-- +goose Down comes before -- +goose Up")
    transaction = Transaction.NONE if any(kind == "no transaction" for _, kind in found) else Transaction.WRAPPED
    down_at = downs[0] if downs else len(lines)
    up = annotated_section(path, lines, ups[0] + 1, down_at, found, transaction)
    down = annotated_section(path, lines, down_at + 1, len(lines), found, transaction) if downs else None
    return GooseFile(up, down, _needing(needs, ups[0], down_at), _needing(needs, down_at, len(lines)))


def _annotations(lines: list[str]) -> list[tuple[int, str]]:
    """(line index, annotation) of each `-- +goose ...` line."""
    return [(index, kind) for index, line in enumerate(lines) if (kind := _annotation(line)) is not None]


@dataclass(frozen=True)
class _Substituted:
    lines: list[str]  # with goose's ENVSUB regions expanded
    needs: dict[int, str]  # line index -> the variable only the deploy's environment gives
    sections: list[tuple[int, int]]  # each ENVSUB region: the indexes of its ON and OFF lines (or the end)
    collapsed: list[int]  # the lines whose `$$` (or `\$`) became one `$`


def _environment_substituted(path: Path, lines: list[str], found: list[tuple[int, str]]) -> _Substituted:
    """The lines with goose's ENVSUB regions expanded (goose_envsub), what they need and what the
    expansion changed. Comment lines goose skips are left as they are."""
    kinds = dict(found)
    substituting = False
    out: list[str] = []
    needs: dict[int, str] = {}
    sections: list[tuple[int, int]] = []
    collapsed: list[int] = []
    for index, line in enumerate(lines):
        kind = kinds.get(index)
        if kind in ("envsub on", "envsub off"):
            if kind == "envsub off" and substituting:
                sections[-1] = (sections[-1][0], index)
            elif kind == "envsub on" and not substituting:
                sections.append((index, len(lines)))
            substituting = kind == "envsub on"
        elif substituting and kind is None and not line.lstrip().startswith("--"):
            body = line.removesuffix("\n")
            try:
                expanded = expand(body, given())
            except SubstitutionError as error:
                raise FileError(path, index + 1, f"goose refuses the file: variable substitution failed ({error}) in"
                                " its -- +goose ENVSUB ON section") from None
            line = expanded.text + line[len(body):]
            if expanded.needs:
                needs.setdefault(index, expanded.needs)
            if "$$" in body or "\\$" in body:
                collapsed.append(index)
        out.append(line)
    return _Substituted(out, needs, sections, collapsed)


def _needing(needs: dict[int, str], start: int, end: int) -> str | None:
    """Why a section from line index `start` to `end` is not replayed, or None."""
    index = next((i for i in sorted(needs) if start < i < end), None)
    if index is None:
        return None
    return (f"line {index + 1} takes ${needs[index]} from the environment goose runs in (-- +goose ENVSUB ON),"
            f" which this check does not have: give its value with --var {needs[index]}=VALUE, or a default in"
            f" the file (${{{needs[index]}:-value}}), to have the migration replayed")


def annotated_section(path: Path, lines: list[str], start: int, end: int, found: list[tuple[int, str]],
                      transaction: Transaction, marker: str = "-- +goose") -> Script:
    """One direction of an annotated file (goose's, sql-migrate's: `marker` starts the annotations).
    With StatementBegin/End blocks, the statement boundaries are explicit."""
    blocks: list[tuple[int, int]] = []  # (first line, end line) of each block's content, 0-based
    opened: int | None = None
    for index, kind in found:
        if not start <= index < end:
            continue
        if kind == "statementbegin":
            if opened is not None:
                raise FileError(path, index + 1, f"{marker} StatementBegin inside another StatementBegin")
            opened = index + 1
        elif kind == "statementend":
            if opened is None:
                raise FileError(path, index + 1, f"{marker} StatementEnd without StatementBegin")
            blocks.append((opened, index))
            opened = None
    if opened is not None:
        raise FileError(path, opened, f"{marker} StatementBegin without StatementEnd")
    if not blocks:
        return section(path, lines, start, end, transaction)
    offsets = [0]
    for line in lines[start:end]:
        offsets.append(offsets[-1] + len(line))

    def offset(line_index: int) -> int:
        return offsets[line_index - start]

    statements: list[tuple[int, str]] = []
    cursor = start
    for first, last in blocks:
        statements += parsed_pieces(offset(cursor), "".join(lines[cursor:first - 1]))
        statements.append((offset(first), "".join(lines[first:last])))
        cursor = last + 1
    statements += parsed_pieces(offset(cursor), "".join(lines[cursor:end]))
    return section(path, lines, start, end, transaction, statements=tuple(s for s in statements if s[1].strip()))


def parsed_pieces(base: int, text: str) -> list[tuple[int, str]]:
    """Statements of the text between blocks, split by the parser. Text that does not parse is
    kept whole, so the replay reports the syntax error at its file:line."""
    if not text.strip():
        return []
    try:
        pieces = parser.split(text, with_parser=True, only_slices=True)
    except parser.ParseError:
        return [(base, text)]
    return [(base + piece.start, text[piece]) for piece in pieces]


def _annotation(line: str) -> str | None:
    """The lower-cased goose annotation on `line` (`up`, `no transaction`, ...), or None."""
    stripped = line.strip()
    if not stripped.startswith("--"):
        return None
    body = stripped[2:].strip()
    if not body.lower().startswith("+goose"):
        return None
    return " ".join(body[len("+goose"):].split()).lower()
