"""Numbered SQL scripts (`001_create_users.sql`, `2-add-index.sql`) run in number order by `psql -f`
in a loop or by a project's own small runner, with a rollback beside a script where the project
keeps one, marked by a direction word.

No runner's source says the rules: these are the common ground of the hand-rolled runners found in
real repositories (a loop over the sorted files; a Python runner keyed by version and direction,
`000_up__migrations.sql` and `001_down__delete_db.sql`):
- a migration is a `.sql` file whose name is a number, then `_` or `-`, then a name;
- scripts run in the order of their numbers (zero-padded numbers sort the same as text);
- a direction word right after the number or right before `.sql` marks the script's direction:
  `up` forward; `down`, `rollback`, `revert` or `undo` backward (`003_up__tags.sql` and
  `003_down__tags.sql`, `003_tags_down.sql`, `003-tags-rollback.sql`). A forward and a backward
  script pair up when their names without the word are the same, or when they are the only two
  scripts of their number (a runner that keys by number and direction, whatever the names say).
  `down` also ends ordinary names (`slow_down`): it marks a rollback only where the project writes
  `up` too, or where a forward script of its number exists. In a project none of whose numbers has
  both a forward and a backward script, no word marks a rollback: `0042-rollback-prefix-triggers.sql`
  runs forward, as a loop over the files runs it;
- the project's runner is unknown, so no naming convention is asked beyond the number, two
  scripts of one number are two migrations (a psql loop runs both, in name order), and no
  rollback is required: a script without one is not a failure (its round trip is skipped, with the
  reason), since the runner may never need it (a bootstrap script's). `rollbacks: required` asks.
- a Go file named as a script with a direction word (`1522178770_add_job_tags.up.go`) is a
  migration the project's runner runs as Go code (concourse's atc/db/migration): it keeps its
  place and its pairing, and is not replayed; other Go files there are the runner's own code.

The timestamp layout's files have the same shape; it claims a directory only when its versions are
14-digit timestamps (its own convention, whose naming it checks). Detection scores below it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import ClassVar, NamedTuple

from migration_check.discovery.base import Detection, Discovery, Layout, files_named, read_sql, version_sort_key
from migration_check.discovery.listing import candidate_files
from migration_check.model import Migration, OrphanRollback, RollbackPolicy, Script, StrayFile

FILE = re.compile(r"^(?P<version>\d+)[_-](?P<rest>.+)\.(?P<extension>sql|go)$", re.IGNORECASE)
GO_SKIP = "a Go migration: the project's runner runs it as Go code, not SQL that can be replayed"
FORWARD_WORDS = frozenset({"up"})
BACKWARD_WORDS = frozenset({"down", "rollback", "revert", "undo"})
# Words that end ordinary names as often as they mark a direction.
AMBIGUOUS_WORDS = frozenset({"down"})
DIRECTION_WORDS = tuple(sorted(FORWARD_WORDS | BACKWARD_WORDS))
SEPARATORS = "_-."


class NumberedName(NamedTuple):
    """What one file's name says: its number, its name without the direction word, the word."""

    path: Path
    version: str
    bare: str
    word: str | None  # "up", "down", ...: None when the name carries none
    go: bool = False  # a Go migration (`.up.go`, `.down.go`), not replayed

    @property
    def backward(self) -> bool:
        return self.word in BACKWARD_WORDS


class NumberedLayout(Layout):
    name = "numbered"
    description = "<number>_<name>.sql scripts, run in number order (a rollback marked up/down, _rollback, ...)"
    default_rollbacks = RollbackPolicy.ABSENT
    conventional_dirs: ClassVar[tuple[str, ...]] = ("migrations", "db/migrations", "sql/migrations")
    naming_pattern = r"^\d+[_-].+\.(sql|go)$"  # .go: a Go migration of the project's runner
    naming_hint = "<number>_<name>.sql"
    strict_naming_pattern = r"^\d+_[a-z][a-z0-9]*(_[a-z0-9]+)*\.(sql|go)$"
    strict_naming_hint = "<number>_snake_case_name.sql"
    numeric_versions = True
    # Two scripts of one number both run in a psql loop; no runner is known to record versions.
    identity = "id"

    def detect(self, directory: Path) -> Detection | None:
        files = [p for p in candidate_files(directory) if p.suffix.lower() == ".sql"]
        scripts = [s for s in map(read_name, files) if s]
        if not scripts or len(scripts) < len(files) / 2:
            return None
        marked = sum(1 for s in scripts if s.word)
        why = files_named(len(scripts), "<number>_<name>.sql")
        if marked:
            why += f", {marked} of them marked up/down"
        return Detection(score=45, reason=why)

    def discover(self, directory: Path) -> Discovery:
        scripts: list[NumberedName] = []
        stray: list[StrayFile] = []
        for path in candidate_files(directory):
            script = read_name(path)
            if script is None and path.suffix.lower() == ".go":
                continue  # the runner's own Go code beside its migrations (concourse's migrations.go)
            if script is None:
                stray.append(StrayFile(path, f"not {self.naming_hint}", refused=False))
            else:
                scripts.append(script)
        migrations, orphans = pair_scripts(scripts)
        found = Discovery(migrations, stray, orphans)
        keeps_rollbacks = bool(orphans) or any(m.down for m in migrations)
        found.rollback_policy = RollbackPolicy.OPTIONAL if keeps_rollbacks else RollbackPolicy.ABSENT
        return found

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        """The next number, zero-padded as the newest, named in the style of the project's last
        script with a rollback (`004_up__x.sql` and `004_down__x.sql`, or `004_x_rollback.sql`)."""
        scripts = [s for s in map(read_name, candidate_files(directory)) if s]
        newest = max(scripts, key=lambda s: int(s.version), default=None)
        width = len(newest.version) if newest else 3
        version = str(int(newest.version) + 1 if newest else 1).zfill(width)
        migrations, _ = pair_scripts(scripts)
        pairs = [(read_name(m.up.path), read_name(m.down.path)) for m in migrations if m.up and m.down]
        if not pairs:
            return {directory / f"{version}_{name}.sql": f"-- {name}\n"}
        up, down = pairs[-1]
        forward = _styled(up, version, name) if up else f"{version}_{name}.sql"
        backward = _styled(down, version, name) if down else f"{version}_{name}_down.sql"
        return {directory / forward: f"-- {name}\n", directory / backward: f"-- rollback of {forward}\n"}


def read_name(path: Path) -> NumberedName | None:
    """The number, bare name and direction word of a numbered script's name; None for other files.
    `.up.sql`/`.down.sql` names are golang-migrate's and sqlx's, whose layouts claim them first."""
    match = FILE.match(path.name)
    if not match or path.name.lower().endswith("_test.go"):
        return None
    version, rest = match["version"], match["rest"]
    go = match["extension"].lower() == "go"
    lowered = rest.lower()
    for word in DIRECTION_WORDS:
        if lowered == word:
            return NumberedName(path, version, "", word, go)
        if lowered.startswith(word) and rest[len(word)] in SEPARATORS:
            return NumberedName(path, version, rest[len(word):].lstrip(SEPARATORS), word, go)
    for word in DIRECTION_WORDS:
        if lowered.endswith(word) and rest[-len(word) - 1] in SEPARATORS:
            return NumberedName(path, version, rest[: -len(word)].rstrip(SEPARATORS), word, go)
    # A Go file is a migration only where its name gives a direction: else it is Go code.
    return None if go else NumberedName(path, version, rest, None)


def _styled(example: NumberedName, version: str, name: str) -> str:
    """`name` at `version`, written as `example` is: its separator and direction word, in place."""
    stem = example.path.name[: -len(example.path.suffix)]
    separator, rest = stem[len(example.version)], stem[len(example.version) + 1:]
    if example.word is None or not example.bare:
        marker = rest if example.word else ""
        return f"{version}{separator}{name}{separator if marker else ''}{marker}.sql"
    if rest.lower().startswith(example.word):
        return f"{version}{separator}{rest[: len(rest) - len(example.bare)]}{name}.sql"
    return f"{version}{separator}{name}{rest[len(example.bare):]}.sql"


def pair_scripts(scripts: list[NumberedName]) -> tuple[list[Migration], list[OrphanRollback]]:
    """Migrations in number order, each forward script with its rollback; rollbacks left alone."""
    marks_up = any(s.word in FORWARD_WORDS for s in scripts)
    by_number: dict[int, list[NumberedName]] = defaultdict(list)
    for script in scripts:
        by_number[int(script.version)].append(script)
    # A project none of whose numbers has both a forward and a backward script keeps no rollbacks:
    # a script named for one (`0042-rollback-prefix-triggers.sql`) runs forward, as a loop runs it.
    keeps_rollbacks = marks_up or any(any(s.backward for s in group) and not all(s.backward for s in group)
                                      for group in by_number.values())
    migrations: list[Migration] = []
    orphans: list[OrphanRollback] = []
    for number in sorted(by_number):
        group = by_number[number]
        forward = [s for s in group if not s.backward]
        backward = [s for s in group if s.backward]
        if not forward and not keeps_rollbacks:
            forward, backward = [_unmarked(s) for s in backward], []
        elif not forward and not marks_up:
            # `004_slow_down.sql` alone: an ordinary name, not a rollback without its script.
            forward = [_unmarked(s) for s in backward if s.word in AMBIGUOUS_WORDS]
            backward = [s for s in backward if s.word not in AMBIGUOUS_WORDS]
        pairs = _pairs(forward, backward)
        migrations += [_migration(up, pairs.get(up.path)) for up in forward]
        paired = {s.path for s in pairs.values()}
        orphans += [OrphanRollback(s.path, s.version, s.bare) for s in backward if s.path not in paired]
    migrations.sort(key=lambda m: m.sort_key)
    return migrations, orphans


def _unmarked(script: NumberedName) -> NumberedName:
    """The script read as one whose name carries no direction word."""
    match = FILE.match(script.path.name)
    return script._replace(bare=match["rest"] if match else script.bare, word=None)


def _pairs(forward: list[NumberedName], backward: list[NumberedName]) -> dict[Path, NumberedName]:
    """forward script's path -> its rollback: the same bare name, else the only two of the number."""
    pairs: dict[Path, NumberedName] = {}
    left = list(backward)
    for up in forward:
        same = next((down for down in left if down.bare.lower() == up.bare.lower()), None)
        if same is not None:
            pairs[up.path] = same
            left.remove(same)
    unpaired = [up for up in forward if up.path not in pairs]
    if len(unpaired) == 1 and len(left) == 1:
        pairs[unpaired[0].path] = left[0]
    return pairs


def _migration(up: NumberedName, down: NumberedName | None) -> Migration:
    name = up.bare or (up.word or "")
    files = (up.path,) + ((down.path,) if down else ())
    sort_key = version_sort_key(up.version) + (up.path.name,)
    if up.go:
        return Migration(version=up.version, name=name, sort_key=sort_key, up=None, files=files, skip_reason=GO_SKIP)
    return Migration(
        version=up.version,
        name=name,
        sort_key=sort_key,
        up=Script(up.path, read_sql(up.path)),
        down=Script(down.path, read_sql(down.path)) if down and not down.go else None,
        files=files,
        down_skip_reason=f"its rollback is {GO_SKIP}" if down and down.go else None,
    )
