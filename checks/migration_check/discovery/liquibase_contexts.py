"""Liquibase's contexts, and the database, as the project runs Liquibase: which changesets an update
runs, by the contexts it is given, and whether it runs them on PostgreSQL at all.

A changeset runs when every context expression on it (its own `context`, its changelog's, and
those of the includes that led to it) holds for the contexts the project runs Liquibase with, or
when it is run with none (every changeset runs then). An expression is Liquibase's: `a, b` (either),
`a and b`, `!a` or `not a`, parentheses. The project's contexts are Spring Boot's
`spring.liquibase.contexts` in an application file of a folder above the changelog
(AAFC-BICoE/seqdb-api runs `schema-change, initial-data`, so its `sample-data` changesets never
run there), else `contexts` in a liquibase.properties there.
"""

from __future__ import annotations

import re
from pathlib import Path

from migration_check.discovery.databases import OTHER_DATABASES, names_a_database
from migration_check.discovery.flyway_config import CONFIG_LEVELS, application_entries, read_properties
from migration_check.discovery.path_words import POSTGRES_WORDS

TOKEN = re.compile(r"\(|\)|,|!|[^\s(),!]+")


def configured_contexts(directory: Path) -> tuple[frozenset[str], str] | None:
    """The contexts the project runs Liquibase with and where that is said, or None (all run)."""
    found = _configured(directory, ("spring.liquibase.contexts",), ("contexts", "liquibase.contexts",
                                                                     "liquibase.command.contexts"))
    if found is None:
        return None
    return frozenset(c.strip().lower() for c in found[0].split(",") if c.strip()), found[1]


def configured_labels(directory: Path) -> tuple[str, str] | None:
    """The label filter the project runs Liquibase with (an expression over each changeset's labels)
    and where that is said, or None (every changeset runs whatever its labels)."""
    return _configured(directory, ("spring.liquibase.label-filter", "spring.liquibase.labels"),
                       ("labels", "label-filter", "labelFilter", "liquibase.command.labelFilter"))


def _configured(directory: Path, spring_keys: tuple[str, ...], property_keys: tuple[str, ...]) -> tuple[str, str] | None:
    for folder in [directory, *directory.parents][:CONFIG_LEVELS]:
        entries = application_entries(folder)
        key = next((k for k in spring_keys if entries.get(k)), None)
        value: str | None = entries[key] if key is not None else _property(folder / "liquibase.properties", property_keys)
        if value and not value.startswith("${"):
            return value, key or "liquibase.properties"
    return None


def _property(path: Path, keys: tuple[str, ...]) -> str | None:
    return next((value for key, value in read_properties(path) if key in keys), None)


def runs(expression: str, contexts: frozenset[str]) -> bool:
    """Whether the changeset of this context expression runs with these contexts."""
    tokens = [token.lower() for token in TOKEN.findall(expression)]
    if not tokens:
        return True
    value, _ = _either(tokens, 0, contexts)
    return value


# Contexts that name a database (databases.py's words): a changelog written for several databases
# marks the changesets of each with its name (apache/fineract's `context="mysql"` beside
# `context="postgresql"`), and the project runs Liquibase with its database's name among the contexts.


def for_another_database(expression: str) -> str | None:
    """The database a context expression is for, where it names databases alone (`mysql`,
    `mysql, mariadb`) and none of them is PostgreSQL; else None."""
    names = [token.lower() for token in TOKEN.findall(expression) if token.lower() not in (",", "or")]
    if not names or not all(names_a_database(name) for name in names) or any(n in POSTGRES_WORDS for n in names):
        return None
    return ", ".join(dict.fromkeys(OTHER_DATABASES[name] for name in names))


def _either(tokens: list[str], at: int, contexts: frozenset[str]) -> tuple[bool, int]:
    value, at = _both(tokens, at, contexts)
    while at < len(tokens) and tokens[at] in (",", "or"):
        right, at = _both(tokens, at + 1, contexts)
        value = value or right
    return value, at


def _both(tokens: list[str], at: int, contexts: frozenset[str]) -> tuple[bool, int]:
    value, at = _one(tokens, at, contexts)
    while at < len(tokens) and tokens[at] == "and":
        right, at = _one(tokens, at + 1, contexts)
        value = value and right
    return value, at


def _one(tokens: list[str], at: int, contexts: frozenset[str]) -> tuple[bool, int]:
    if at >= len(tokens):
        return True, at
    if tokens[at] in ("!", "not"):
        value, at = _one(tokens, at + 1, contexts)
        return not value, at
    if tokens[at] == "(":
        value, at = _either(tokens, at + 1, contexts)
        return value, at + 1 if at < len(tokens) and tokens[at] == ")" else at
    return tokens[at] in contexts, at + 1
