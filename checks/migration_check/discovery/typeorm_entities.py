"""What TypeORM does to a database before the first migration: it installs the extensions its
entities need when it connects (PostgresDriver.afterConnect: `installExtensions` is on unless the
DataSource turns it off), each with `CREATE EXTENSION IF NOT EXISTS`, a failure only warned about.

The entities are read from their decorators (and those of the classes they extend) in the package
that holds the migrations (the nearest folder above them with a package.json): a generated uuid key
(`@PrimaryGeneratedColumn('uuid')`, `@Generated('uuid')`) needs `uuid-ossp` (or the DataSource's
`uuidExtension`), a citext, hstore, cube, ltree, vector or geometry column its extension, an
`@Exclusion` btree_gist; none where the DataSource sets `installExtensions: false`. Migrations that
TypeORM's CLI generates for uuid keys call `uuid_generate_v4()` and never create the extension
(brocoders/nestjs-boilerplate, NarHakobyan/awesome-nest-boilerplate): without this, the first one
fails where TypeORM's own run passes.
"""

from __future__ import annotations

import os
from pathlib import Path

from tree_sitter import Node

from migration_check.discovery.base import up_to_repository_root
from migration_check.discovery.js_modules import module_text
from migration_check.discovery.js_reading import LANGUAGES, parser
from migration_check.discovery.js_values import Code, Values, arguments_of, descendants, text_of
from migration_check.errors import FileError
from migration_check.sql.prepared import quote_literal

COLUMN_EXTENSIONS = {"citext": "citext", "hstore": "hstore", "cube": "cube", "ltree": "ltree", "vector": "vector",
                     "halfvec": "vector", "geometry": "postgis", "geography": "postgis"}
GENERATED = frozenset({"PrimaryGeneratedColumn", "Generated"})
COLUMNS = frozenset({"Column", "PrimaryColumn"})
SKIPPED_FOLDERS = frozenset({"node_modules", "dist", "build", ".git", "coverage"})
MAX_FILES = 5000  # a package bigger than this is searched no further: what was found is installed


def entity_extensions(migrations: Path) -> dict[str, tuple[Path, int]]:
    """Each extension TypeORM installs for the package of `migrations`, with the first entity file
    and line that needs it."""
    package = package_of(migrations)
    if package is None:
        return {}
    found: dict[str, tuple[Path, int]] = {}
    uuid_extension = "uuid-ossp"
    for path in _sources(package):
        try:
            text = module_text(path)
        except FileError:  # not a module TypeORM could load either
            continue
        # entities, and the abstract classes they extend (whose columns they inherit), where a
        # decorator may name what needs an extension, and the DataSource's options: only those
        # are parsed, each once
        options = [key for key in ("uuidExtension", "installExtensions") if key in text]
        if not options and not _may_need(text):
            continue
        root = parser(LANGUAGES[path.suffix]).parse(text.encode("utf-8")).root_node
        values = Values(root)
        if "uuidExtension" in options and isinstance(chosen := _option(root, values, "uuidExtension"), str):
            uuid_extension = chosen
        if "installExtensions" in options and _option(root, values, "installExtensions") is False:
            return {}  # the DataSource turns it off
        if not _may_need(text):
            continue
        for decorator in descendants(root, ("decorator",), within=True):
            for extension in _needs(decorator, values):
                found.setdefault(uuid_extension if extension == "uuid" else extension,
                                 (path, decorator.start_point.row + 1))
    return found


def package_of(migrations: Path) -> Path | None:
    """The folder of the package that holds the migrations: the nearest above them with a
    package.json, up to the repository's root."""
    return next((folder for folder in up_to_repository_root(migrations)[1:] if (folder / "package.json").is_file()), None)


def setup_sql(extensions: dict[str, tuple[Path, int]]) -> str:
    """TypeORM's `CREATE EXTENSION IF NOT EXISTS` for each, skipped where the server lacks it (a
    failure there is only warned about)."""
    return "".join(
        f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = {quote_literal(name)})"
        f' THEN CREATE EXTENSION IF NOT EXISTS "{name}"; END IF; END $$;\n' for name in extensions)


def _may_need(text: str) -> bool:
    generated = "uuid" in text and any(f"@{decorator}(" in text for decorator in GENERATED)
    typed = any(f"@{decorator}(" in text for decorator in COLUMNS) and any(
        f"{quote}{kind}{quote}" in text for kind in COLUMN_EXTENSIONS for quote in "'\"`")
    return generated or typed or "@Exclusion(" in text


def _sources(package: Path) -> list[Path]:
    found: list[Path] = []
    for folder, subfolders, files in os.walk(package):
        subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_FOLDERS and not d.startswith("."))
        # links are not followed: nothing outside the package (or the repository) is read for it
        found += [Path(folder) / name for name in sorted(files)
                  if name.endswith((".ts", ".js")) and not name.endswith(".d.ts") and not (Path(folder) / name).is_symlink()]
        if len(found) > MAX_FILES:
            break
    return found


def _needs(decorator: Node, values: Values) -> list[str]:
    call = next((child for child in decorator.named_children if child.type == "call_expression"), None)
    callee = call.child_by_field_name("function") if call is not None else None
    if call is None or callee is None:
        return []
    name = text_of(callee)
    given = arguments_of(call)
    if name == "Exclusion":
        return ["btree_gist"]
    try:
        first = values.value(given[0]) if given else None
    except (Code, RecursionError):
        return []
    if name in GENERATED:
        return ["uuid"] if first == "uuid" else []
    if name in COLUMNS:
        kind = first if isinstance(first, str) else first.get("type") if isinstance(first, dict) else None
        return [COLUMN_EXTENSIONS[kind]] if isinstance(kind, str) and kind in COLUMN_EXTENSIONS else []
    return []


def _option(root: Node, values: Values, key: str) -> object:
    """A DataSource option a file of the package sets (`uuidExtension: 'pgcrypto'`), as written;
    None where it is not written as a value."""
    for pair in reversed(descendants(root, ("pair",), within=True)):  # the last one written
        name = pair.child_by_field_name("key")
        if name is not None and text_of(name) == key and (value := pair.child_by_field_name("value")):
            try:
                return values.value(value)
            except (Code, RecursionError):
                return None
    return None
