"""Atlas's `atlas.sum`: the migration directory's integrity file, read and checked as Atlas does.

Rules, from ariga/atlas `sql/migrate/dir.go` (`NewHashFile`, `HashFile.UnmarshalText`, `Validate`):
- The first line is `h1:<base64 sha256>` over every entry's name and hash; each later line is
  `<file name> h1:<hash>`. A line without `h1:` is a format error; a first line that is not the
  sum of the lines below is a mismatch.
- An entry's hash is a running sha256: every `*.sql` file of the directory, in name order, feeds
  its name and then its bytes, and the entry is the digest so far. A file whose first line carries
  `atlas:sum ignore` feeds its name only and has no entry.
- `atlas migrate apply` (and `status`, `lint`, `validate`) refuses the whole directory when the
  file is missing or does not match, naming the first line that differs: a file added, edited or
  removed since the last `atlas migrate hash`. A merge that adds migrations on two branches, or an
  edit to an applied migration, is caught so.

Atlas stops at the first difference; this check says that one as Atlas does, then every file the
sum does not list and every entry that names no file, so one run shows all there is to fix.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from migration_check.model import Refusal

SUM_FILE = "atlas.sum"
PREFIX = "h1:"
# Atlas's reDirective, on a file's whole text: only its first line can match (no multi-line mode).
DIRECTIVE = re.compile(r"([ -~]*)atlas:(\w+)(?: +(.+))*", re.ASCII)
REHASH = "run `atlas migrate hash` once the change is meant"


@dataclass(frozen=True)
class Entry:
    name: str
    digest: str
    line: int


def sql_files(directory: Path) -> list[Path]:
    """The directory's `*.sql` files as Atlas lists them (`fs.Glob(dir, "*.sql")`, sorted by name)."""
    return sorted((path for path in directory.glob("*.sql") if path.is_file()), key=lambda path: path.name)


def first_line_directive(content: str, name: str) -> str | None:
    """The argument of `atlas:<name>` on the text's first line, as Atlas's `directive` finds it."""
    match = DIRECTIVE.match(content)
    if match is None or match[2] != name:
        return None
    return match[3] or ""


def computed(files: list[Path]) -> list[tuple[str, str]]:
    """(name, hash) for each file the sum lists, as `NewHashFile` computes them."""
    running = hashlib.sha256()
    entries: list[tuple[str, str]] = []
    for path in files:
        running.update(path.name.encode())
        content = path.read_bytes()
        if first_line_directive(content.decode("utf-8", errors="replace"), "sum") == "ignore":
            continue
        running.update(content)
        entries.append((path.name, base64.b64encode(running.copy().digest()).decode()))
    return entries


def total(entries: list[tuple[str, str]]) -> str:
    """The first line's sum over the entries (`HashFile.Sum`)."""
    digest = hashlib.sha256()
    for name, value in entries:
        digest.update(name.encode())
        digest.update(value.encode())
    return base64.b64encode(digest.digest()).decode()


def rendered(entries: list[tuple[str, str]]) -> str:
    """The file's text for `entries` (`HashFile.MarshalText`)."""
    return f"{PREFIX}{total(entries)}\n" + "".join(f"{name} {PREFIX}{value}\n" for name, value in entries)


def refusals(directory: Path) -> list[Refusal]:
    """Why `atlas migrate apply` would refuse the directory, each at its line of atlas.sum; none
    when the sum matches."""
    path = directory / SUM_FILE
    files = sql_files(directory)
    if not path.is_file():
        if not files:
            return []
        return [Refusal(path, 1, f"{SUM_FILE} is missing: `atlas migrate apply` refuses the directory (checksum file"
                        f" not found); run `atlas migrate hash` to write it.")]
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    stated, entries = lines[0].removeprefix(PREFIX) if lines else "", []
    for number, line in enumerate(lines[1:], start=2):
        name, separator, value = line.partition(PREFIX)
        if not separator:
            return [Refusal(path, number, f"line {number} of {SUM_FILE} is not `<file> h1:<hash>`"
                            f"{' (a merge conflict left in it?)' if line.startswith(('<<<<<<<', '=======', '>>>>>>>')) else ''}:"
                            f" `atlas migrate apply` refuses the directory (checksum file format invalid); {REHASH}.")]
        entries.append(Entry(name.strip(), value, number))
    if stated != total([(e.name, e.digest) for e in entries]):
        return [Refusal(path, 1, f"the sum on the first line of {SUM_FILE} is not the sum of the lines below it (edited"
                        f" by hand, or merged): `atlas migrate apply` refuses the directory (checksum mismatch); {REHASH}.")]
    return _differences(path, entries, computed(files))


def _differences(path: Path, entries: list[Entry], actual: list[tuple[str, str]]) -> list[Refusal]:
    expected = [(e.name, e.digest) for e in entries]
    if expected == actual:
        return []
    refused = "`atlas migrate apply` refuses the directory (checksum mismatch)"
    listed, present = {e.name for e in entries}, {name for name, _ in actual}
    found: list[Refusal] = []
    first = next((i for i, pair in enumerate(expected) if i >= len(actual) or actual[i] != pair), len(expected))
    if first < len(expected) and entries[first].name in present and actual[first][0] == entries[first].name:
        found.append(Refusal(path, entries[first].line, f"{entries[first].name} was edited after {SUM_FILE} was"
                             f" written: {refused}; if it has run nowhere yet, {REHASH}, else restore it and make the"
                             " change in a new migration."))
    found += [Refusal(path, entry.line, f"{SUM_FILE} lists {entry.name}, which is not in the directory: {refused};"
                      f" restore the file, or {REHASH}.") for entry in entries if entry.name not in present]
    line = len(entries) + 2
    found += [Refusal(path, _line_of(name, actual, entries, line), f"{name} is not in {SUM_FILE}: {refused};"
                      f" {REHASH} (`atlas migrate new` and `migration-check new` write it).")
              for name, _ in actual if name not in listed]
    if not found:  # the same files, in another order than the sum's or with an ignored one hashed
        found.append(Refusal(path, entries[first].line if first < len(entries) else line,
                             f"{SUM_FILE} does not match the files from line {first + 2} on: {refused}; {REHASH}."))
    return sorted(found, key=lambda refusal: refusal.line)


def _line_of(name: str, actual: list[tuple[str, str]], entries: list[Entry], end: int) -> int:
    """Where an unlisted file would go in atlas.sum: the line of the first listed file after it."""
    later = {entry.name: entry.line for entry in entries}
    following = [later[other] for other, _ in actual if other > name and other in later]
    return min(following, default=end)
