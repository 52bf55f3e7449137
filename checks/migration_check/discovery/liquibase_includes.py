"""Where a Liquibase include points: beside its changelog (`relativeToChangelogFile`), else on the
search path, the classpath of a multi-module build (liquibase.py's `_search_path`). An includeAll
reads the folder of that name in every classpath root, as Liquibase lists a classpath folder:
apache/fineract's `db/changelog/tenant/module` is in fineract-investor's resources and in
fineract-loan's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from migration_check.discovery.liquibase_entries import is_false, is_true
from migration_check.errors import FileError


def resolve_include(changelog: Path, attributes: dict[str, Any], key: str, search_path: list[Path], line: int) -> Path:
    """Where an include (a sqlFile, a loadData) points by its `key` attribute, as Liquibase finds it:
    beside the changelog with `relativeToChangelogFile`, else there or on the search path; a
    FileError at the include's line if nowhere."""
    name = included_name(attributes, key)
    if not name:
        raise FileError(changelog, line, "an include without a file (or includeAll without a path)")
    found = found_include(changelog, attributes, key, search_path)
    if found is None:
        raise FileError(changelog, line, f"{name} is not there")
    return found


def included_name(attributes: dict[str, Any], key: str) -> str:
    """The path an include names, on the search path: the classpath, where a leading `/` is its root
    (ORCID's `<include file="/db/install.xml"/>`), not the machine's."""
    name = str(attributes.get(key, "")).removeprefix("classpath:").removeprefix("classpath*:")
    return name.lstrip("/")


def found_include(changelog: Path, attributes: dict[str, Any], key: str, search_path: list[Path]) -> Path | None:
    name = included_name(attributes, key)
    if not name:
        return None
    return next((candidate for candidate in _candidates(changelog, attributes, name, search_path) if candidate.exists()), None)


def _candidates(changelog: Path, attributes: dict[str, Any], name: str, search_path: list[Path]) -> list[Path]:
    """Where an include of `name` may be: beside the changelog only, with `relativeToChangelogFile`."""
    if is_true(attributes.get("relativeToChangelogFile")):
        return [changelog.parent / name]
    return [changelog.parent / name, *(base / name for base in search_path)]


def missing_allowed(kind: str, attributes: dict[str, Any]) -> bool:
    """Whether Liquibase goes on where the include is missing: `errorIfMissing="false"` on an
    include, `errorIfMissingOrEmpty="false"` on an includeAll (apache/fineract's optional
    `db/custom-changelog`)."""
    return is_false(attributes.get("errorIfMissing" if kind == "include" else "errorIfMissingOrEmpty"))


def included_all(changelog: Path, attributes: dict[str, Any], search_path: list[Path],
                 extensions: tuple[str, ...]) -> list[Path]:
    """The changelogs an includeAll reads, in the order of their paths below the folder: of every
    folder of that name (relative to the changelog, or on each root of the search path), the first
    file of each path."""
    files: dict[str, Path] = {}
    seen: set[Path] = set()
    for folder in _candidates(changelog, attributes, included_name(attributes, "path"), search_path):
        if not folder.is_dir() or folder.resolve() in seen:
            continue
        seen.add(folder.resolve())
        for child in folder.rglob("*"):
            if child.is_file() and child.suffix in extensions:
                files.setdefault(child.relative_to(folder).as_posix(), child)
    return [files[key] for key in sorted(files)]
