"""Liquibase's loadData: a CSV file's rows as the INSERTs LoadDataChange writes on PostgreSQL."""

from __future__ import annotations

import csv
from typing import Any

from migration_check.discovery.liquibase_changes import QUOTING, columns_of, name, table
from migration_check.sql.prepared import quote_literal


def load_data_sql(attributes: dict[str, Any], text: str, quoting: str = "LEGACY") -> str:
    """loadData's INSERTs for a CSV file's rows (LoadDataChange): the header names the columns
    (a `<column>` may give one another name, `header`, or `type: skip` to leave it out), an empty
    value or NULL is NULL, NUMERIC, BOOLEAN and COMPUTED values are written as they are, the rest
    as strings."""
    rows = list(csv.reader(text.splitlines(), delimiter=str(attributes.get("separator") or ","),
                           quotechar=str(attributes.get("quotchar") or '"')))
    if not rows:
        return ""
    header, *records = rows
    declared = {str(c.get("header") or c.get("name")): c for c in columns_of(attributes)}
    kept = []
    for position, title in enumerate(header):
        column = declared.get(title.strip(), {})
        kind = str(column.get("type", "STRING")).upper()
        if kind != "SKIP":
            kept.append((position, str(column.get("name") or title.strip()), kind))
    token = QUOTING.set(quoting)
    try:
        names = ", ".join(name(column) for _, column, _ in kept)
        statements = []
        for record in records:
            if not any(cell.strip() for cell in record):
                continue
            values = ", ".join(_cell(record[position] if position < len(record) else "", kind) for position, _, kind in kept)
            statements.append(f"INSERT INTO {table(attributes)} ({names}) VALUES ({values});")
    finally:
        QUOTING.reset(token)
    return "\n".join(statements)


def _cell(raw: str, kind: str) -> str:
    if raw == "" or raw.upper() == "NULL":
        return "NULL"
    return raw if kind in ("NUMERIC", "BOOLEAN", "COMPUTED") else quote_literal(raw)
