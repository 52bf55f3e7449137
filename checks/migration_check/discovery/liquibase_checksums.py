"""What Liquibase checksums of a changeset, for the history check: a changelog file holds many
changesets, and Liquibase compares each one's checksum, never the file's. Appending a changeset to
a merged changelog is its normal use; editing a merged changeset makes Liquibase refuse to update
("Validation Failed: ... changesets check sum").

As Liquibase computes it (ChangeSet.generateCheckSum, AbstractSQLChange's normalizing stream): from
the changeset's changes and its modifySql, whitespace collapsed; not from its id, author, comment,
contexts, labels, preconditions or rollback. A changeset that says `runOnChange` or `runAlways`
runs again when it changes, and `validCheckSum: ANY` (or `1:any`) accepts any checksum: Liquibase
takes an edit of those. A changeset that lists a checksum of its own (`validCheckSum: 9:...`, the one
its databases hold) declares an edit its author checked: Liquibase takes it where that checksum is
the one they hold, which only Liquibase's own hash can tell.
The text is compared as written, `${name}` parameters unexpanded: their values are a deployment's.
"""

from __future__ import annotations

import json
from typing import Any

from migration_check.discovery.liquibase_entries import is_true


def structured_text(changeset: dict[str, Any]) -> str:
    """The checksummed part of a YAML, JSON or XML changeset, written the same way for the same
    changes whatever the whitespace."""
    return json.dumps(_collapsed({"changes": changeset.get("changes") or [], "modifySql": changeset.get("modifySql") or []}),
                      sort_keys=True, default=str)


def formatted_text(sql_lines: list[str]) -> str:
    """The checksummed part of a formatted SQL changeset: its SQL (its rollback and its
    precondition and comment lines aside, as Liquibase's parser sets them aside), whitespace collapsed."""
    return " ".join(" ".join(sql_lines).split())


def edits_allowed(changeset: dict[str, Any]) -> bool:
    """Whether Liquibase takes an edit of the changeset once it ran: it runs it again, or it lists checksums it accepts."""
    valid = changeset.get("validCheckSum")
    valid_list = valid if isinstance(valid, list) else [valid]
    return (is_true(changeset.get("runOnChange")) or is_true(changeset.get("runAlways"))
            or any(str(value).strip() for value in valid_list if value is not None))


def _collapsed(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list):
        return [_collapsed(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _collapsed(item) for key, item in value.items()}
    return value
