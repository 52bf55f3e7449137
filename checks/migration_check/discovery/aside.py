"""Directories whose migrations are not the project's own, by their names: a test suite's fixtures,
the examples, a copy kept aside, the database image's init scripts. Set aside where another
directory is left (discovery/__init__.py)."""

from __future__ import annotations

from pathlib import Path

from migration_check.discovery.path_words import path_words

# Directories whose migrations are a test suite's fixtures or stand-ins (ory/keto's vendored
# oryx/popx/stub/migrations/*), not the project's own.
TEST_DIRECTORIES = frozenset({"test", "tests", "testdata", "__tests__", "fixtures", "__fixtures__", "spec",
                              "stub", "stubs", "mock", "mocks"})
# Words of a directory's own name that say its migrations are a copy, not the ones that run
# (Acaisoft/bolt-api's hasura/migrations_backup beside hasura/migrations).
BACKUP_WORDS = frozenset({"backup", "backups", "bak", "archive", "archived", "deprecated", "obsolete", "unused"})
# Directories whose migrations show how to use the project (dittofeed's examples/supabase).
EXAMPLE_DIRECTORIES = frozenset({"example", "examples", "sample", "samples", "demo", "demos"})
# Where the official PostgreSQL image runs scripts once, when its container starts on an empty data
# directory: the setup of a development database (ORCID's creates its databases and roles, then
# `\connect`s), not migrations, where a runner's own directory is found beside it.
INIT_DIRECTORY = "docker-entrypoint-initdb.d"



def set_aside_by_name(shown: str, name: str) -> str | None:
    """Why a directory (`shown`: its path from the root; `name`: its own name) is not the project's
    migrations, by its names; None where they say nothing."""
    parts = {part.lower() for part in Path(shown).parts}
    if name == INIT_DIRECTORY or name.endswith(f"-{INIT_DIRECTORY}"):  # (ckan's postgres-docker-entrypoint-initdb.d)
        return "the database image's init scripts"
    if set(path_words(name)) & BACKUP_WORDS:
        return "a copy kept aside, by its name"
    if parts & TEST_DIRECTORIES:
        return "of the tests"
    # A directory whose name starts with an example's word (ckan's ckanext/example_database_migrations).
    named = {words[0] for part in parts if (words := path_words(part))}
    return "of the examples" if (parts | named) & EXAMPLE_DIRECTORIES else None
