"""The modules a JavaScript runner loads, as the layouts read them: their text (UTF-8; a NUL byte
is JavaScript's business), their parse tree read once per discovery, and which of a directory's
modules hold a runner's migrations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tree_sitter import Node

from migration_check.discovery.base import read_head
from migration_check.discovery.js_reading import LANGUAGES, parser
from migration_check.discovery.js_values import Values, descendants, text_of
from migration_check.discovery.listing import candidate_files, per_discovery
from migration_check.errors import FileError, read_utf8
from migration_check.model import Migration, Transaction


def module_text(path: Path) -> str:
    """A module's text. Not UTF-8 is a FileError; a NUL byte is JavaScript's business (one in the
    SQL a migration sends is refused where its script is made)."""
    return read_utf8(path).removeprefix("\ufeff")


@per_discovery
def parsed(path: Path) -> tuple[bytes, Node]:
    """A module's text and parse tree, read once per discovery: the detection of several layouts
    asks of one module (TypeORM's, MikroORM's, knex's, Sequelize's), and its discovery again."""
    source = module_text(path).encode("utf-8")
    return source, parser(LANGUAGES[path.suffix]).parse(source).root_node


def readable(test: Callable[[Path], bool]) -> Callable[[Path], bool]:
    """`test` for detection, which asks every directory the tree search passes: a file it cannot
    read (not UTF-8) is not the layout's, and stops nothing."""
    def tolerant(path: Path) -> bool:
        try:
            return test(path)
        except FileError:
            return False
    return tolerant


def detected_modules(directory: Path, loads: Callable[[Path], bool], marked: Callable[[str], bool],
                     holds: Callable[[Path], bool]) -> list[Path]:
    """The modules of `directory` a JavaScript runner loads whose text carries its mark (read first:
    the tree search asks every directory) and whose parse holds one of its migrations."""
    return [p for p in candidate_files(directory) if loads(p) and marked(read_head(p)) and readable(holds)(p)]


def written_values(path: Path, key: str) -> list[str] | None:
    """Every string a module writes for `key` in its objects (`tableName: '_app_migrations'`), in
    order; None where the module cannot be read."""
    return _written(path, key, lambda value, values: values.cooked(value))


def written_flags(path: Path, key: str) -> list[bool] | None:
    """Every `true` or `false` a module writes for `key` in its objects (Kysely's Migrator's
    `disableTransactions: true`), in order; None where the module cannot be read."""
    return _written(path, key, lambda value, _values: {"true": True, "false": False}.get(value.type))


def _written(path: Path, key: str, read: Callable[[Node, Values], Any]) -> list[Any] | None:
    try:
        _source, root = parsed(path)
    except (FileError, OSError, RecursionError):
        return None
    values = Values()
    found = []
    for pair in descendants(root, ("pair",), within=True):
        name, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
        if name is not None and value is not None and text_of(name).strip("'\"") == key \
                and (written := read(value, values)) is not None and not isinstance(written, Node):
            found.append(written)
    return found


def none_outside_a_transaction(migrations: list[Migration]) -> bool:
    """Whether every migration runs in a transaction: the Node.js runners that run every pending
    migration in one (node-pg-migrate, MikroORM, knex) do so only then."""
    return all(m.up is None or m.up.transaction is not Transaction.NONE for m in migrations)
