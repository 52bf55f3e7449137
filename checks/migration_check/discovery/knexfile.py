"""What a knexfile (`knexfile.js`, `.ts`, `.cjs`) says of the migrations, read with the JavaScript
parser: the values its `migrations` settings write as literals, in every environment it holds.

- `directory: '.'` makes the knexfile's own folder the migrations directory; otherwise knex reads
  `./migrations` (its default) or the directory named, so a module in the knexfile's folder that
  exports `up(knex)` is the project's migration stub (Elizabeth-Warren/Spoke).
- `tableName` and `schemaName` name the history table (knex's default is `knex_migrations`, in
  the search path's schema), beside which knex keeps `<tableName>_lock`: drift leaves both out.
"""

from __future__ import annotations

from pathlib import Path

from migration_check.discovery.base import repository_root, up_to_repository_root
from migration_check.discovery.js_modules import written_values
from migration_check.discovery.js_reading import LANGUAGES
from migration_check.discovery.listing import candidate_files


def knexfiles_in(directory: Path) -> list[Path]:
    return [path for path in candidate_files(directory) if path.stem == "knexfile" and path.suffix in LANGUAGES]


def named_history_tables(directory: Path) -> frozenset[str]:
    """The history tables (and their lock tables) that the knexfiles of the migrations directory
    and the folders above it, up to the repository's root, name."""
    folders = up_to_repository_root(directory) if repository_root(directory) is not None else [directory, directory.parent]
    tables: set[str] = set()
    for folder in folders:
        for knexfile in knexfiles_in(folder):
            schema = next(iter(written_values(knexfile, "schemaName") or []), "public")
            tables |= {f"{schema}.{name}{suffix}" for name in written_values(knexfile, "tableName") or []
                       for suffix in ("", "_lock")}
    return frozenset(tables)
