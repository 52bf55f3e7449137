"""A changeset's `modifySql`: edits Liquibase makes to the SQL it generates for one database."""

from __future__ import annotations

import re
from typing import Any

from migration_check.discovery.liquibase_entries import is_true
from migration_check.discovery.liquibase_formatted import dbms_includes_postgresql


def modified(modifications: object, sql: str, rollback: str | None, unsupported: list[str]
              ) -> tuple[str, str | None, list[str]]:
    """The SQL after the changeset's `modifySql` for PostgreSQL (ORCID's `replace "WITH TIME ZONE"
    with "WITHOUT TIME ZONE"`): `replace` and `regExpReplace` as Liquibase applies them to the SQL it
    generates, to the rollback's too with `applyToRollback`; `prepend` and `append`, which apply to
    each statement, are not written here (the changeset is not replayed, with that reason)."""
    for modify in modifications if isinstance(modifications, list) else [modifications]:
        if not isinstance(modify, dict) or not dbms_includes_postgresql(str(modify.get("dbms", ""))):
            continue
        for kind, attributes in _edits(modify):
            if kind not in ("replace", "regExpReplace"):
                unsupported.append(f"modifySql {kind}")
                continue
            sql = _edit(sql, kind, attributes)
            if rollback is not None and is_true(modify.get("applyToRollback")):
                rollback = _edit(rollback, kind, attributes)
    return sql, rollback, unsupported


# The edits a modifySql holds.
EDITS = frozenset({"replace", "regExpReplace", "prepend", "append"})


def _edits(modify: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """A modifySql's edits, in order: XML's `edits`, or YAML's keys beside its attributes."""
    listed = modify.get("edits")
    entries = listed if isinstance(listed, list) else [{key: value} for key, value in modify.items() if key in EDITS]
    return [(kind, attributes) for entry in entries if isinstance(entry, dict)
            for kind, attributes in entry.items() if isinstance(attributes, dict)]


def _edit(text: str, kind: str, attributes: dict[str, Any]) -> str:
    old, new = str(attributes.get("replace", "")), str(attributes.get("with", ""))
    if kind == "replace":
        return text.replace(old, new)
    return re.sub(old, re.sub(r"\$(\d)", r"\\\1", new), text)  # Java's `$1` is Python's `\1`

