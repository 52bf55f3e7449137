"""The words of a path, and those that name PostgreSQL: one directory of migrations per database
is told apart by its name (the names of the other databases are databases.py's). A module of its
own, which databases.py, Maven's profile choice and the unreplayed migrations' resources all read
without importing one another."""

from __future__ import annotations

import re

POSTGRES_WORDS = frozenset({"postgres", "postgresql", "pg", "pgsql", "psql"})


def path_words(path: str) -> list[str]:
    """The words of a path, lower case (`server-postgres/migrations`: server, postgres, migrations)."""
    return re.split(r"[^a-z0-9]+", path.lower())
