"""The entries of a structured Liquibase changelog (YAML, JSON or XML), each with the line it is
written at: `{kind: attributes}` in YAML's shape whatever the format, so that one walk
(liquibase_changelog.py) serves them all.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from migration_check.errors import FileError, read_utf8, read_yaml

# Elements of a changeset that are not changes.
NOT_CHANGES = frozenset({"comment", "preConditions", "validCheckSum", "rollback", "changes", "modifySql"})

# The attribute that names what an entry includes.
INCLUDED = {"include": "file", "includeAll": "path"}


def entries_of(path: Path) -> tuple[list[tuple[str, dict[str, Any], int]], str, str]:
    """The entries of a structured changelog: (kind, attributes, line of the entry), its
    objectQuotingStrategy and the context expression it puts on all of them."""
    text = read_utf8(path)
    if path.suffix == ".xml":
        return _xml_entries(path, text)
    document = read_yaml(path, "invalid changelog")
    entries = document.get("databaseChangeLog") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise FileError(path, 1, "a changelog holds a databaseChangeLog list")
    lines = text.split("\n")
    result = []
    quoting = "LEGACY"
    after = 0
    for entry in entries:
        if isinstance(entry, dict) and len(entry) == 1:
            [(kind, attributes)] = entry.items()
            if kind == "objectQuotingStrategy":
                quoting = str(attributes)
            elif isinstance(attributes, dict):
                after = _line_of(lines, kind, attributes, after)
                result.append((kind, attributes, after))
    return result, quoting, ""


def _xml_entries(path: Path, text: str) -> tuple[list[tuple[str, dict[str, Any], int]], str, str]:
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise FileError(path, exc.position[0], f"invalid changelog: {exc}") from None
    lines = text.split("\n")
    result = []
    after = 0
    for element in root:
        kind = _local(element.tag)
        attributes: dict[str, Any] = dict(element.attrib)
        if kind == "changeSet":
            attributes["changes"] = [_xml_change(child) for child in element if _local(child.tag) not in NOT_CHANGES]
            preconditions = next((child for child in element if _local(child.tag) == "preConditions"), None)
            if preconditions is not None:
                attributes["preConditions"] = [dict(preconditions.attrib), *(_xml_condition(c) for c in preconditions)]
            rollback = next((child for child in element if _local(child.tag) == "rollback"), None)
            if rollback is not None:
                inner = [_xml_change(child) for child in rollback]
                attributes["rollback"] = inner if inner else (rollback.text or "")
            # In YAML's shape: each modifySql its attributes, with its edits as `{kind: attributes}`.
            attributes["modifySql"] = [{**modify.attrib, "edits": [{_local(edit.tag): dict(edit.attrib)} for edit in modify]}
                                       for modify in element if _local(modify.tag) == "modifySql"]
            attributes["validCheckSum"] = [child.text for child in element if _local(child.tag) == "validCheckSum"]
        after = _line_of(lines, kind, attributes, after)
        result.append((kind, attributes, after))
    return (result, root.attrib.get("objectQuotingStrategy", "LEGACY"),
            root.attrib.get("contextFilter") or root.attrib.get("context", ""))


def _xml_condition(element: ET.Element) -> dict[str, Any]:
    """A precondition element in YAML's shape: `not`, `and`, `or` hold a list; sqlCheck's text is its sql."""
    kind = _local(element.tag)
    if kind in ("not", "and", "or"):
        return {kind: [_xml_condition(child) for child in element]}
    attributes: dict[str, Any] = dict(element.attrib)
    if kind == "sqlCheck":
        attributes["sql"] = element.text or ""
    return {kind: attributes}


def _xml_change(element: ET.Element) -> dict[str, Any]:
    """A change element in the shape of its YAML form: `<column>` children are `columns`, each
    with its `<constraints>`; the text of `sql`, `where` and a view's query as attributes."""
    kind = _local(element.tag)
    attributes: dict[str, Any] = dict(element.attrib)
    if kind in ("sql", "createView"):
        attributes["sql" if kind == "sql" else "selectQuery"] = element.text or ""
    columns = []
    for child in element:
        tag = _local(child.tag)
        if tag == "column":
            column: dict[str, Any] = dict(child.attrib)
            constraints = next((c for c in child if _local(c.tag) == "constraints"), None)
            if constraints is not None:
                column["constraints"] = dict(constraints.attrib)
            columns.append({"column": column})
        elif tag == "where":
            attributes["where"] = child.text or ""
    if columns:
        attributes["columns"] = columns
    return {kind: attributes}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _line_of(lines: list[str], kind: str, attributes: dict[str, Any], after: int) -> int:
    """The line of an entry, found after the previous entry's (`after`): where a changeset's id,
    or the file an include names, is written (where a failure in it is placed); else `after`, or 1."""
    wanted = attributes.get("id") if kind == "changeSet" else attributes.get(INCLUDED.get(kind, ""))
    if wanted is None:
        return max(after, 1)
    text = str(wanted)
    found = next((number for number, line in enumerate(lines[after:], start=after + 1) if text in line and
                  (kind != "changeSet" or "id" in line)), None)
    return found if found is not None else max(after, 1)


def is_false(flag: object) -> bool:
    """A Liquibase boolean attribute that is false (not merely absent)."""
    return str(flag).lower() == "false"


def is_true(flag: object) -> bool:
    """A Liquibase boolean attribute (`\"true\"`, `true`) that is true."""
    return str(flag).lower() == "true"
