"""Types of libraries that only wrap SQLAlchemy's, as each compiles on PostgreSQL (read from each
library's source): a migration that uses them writes the column its library would.

- sqlmodel: `AutoString` is VARCHAR; `GUID` (before 0.0.12) UUID; `sqlmodel.<Name>` and
  `sqlmodel.sql.sqltypes.types.<Name>` are SQLAlchemy's own, re-exported.
- fastapi-users' SQLAlchemy adapter: `GUID` is UUID, `TIMESTAMPAware` a TIMESTAMP.
- sqlalchemy-utils: `UUIDType` is UUID (CHAR(32) or BYTEA with `native=False`), `JSONType` JSON,
  `TSVectorType` TSVECTOR, `EmailType` VARCHAR(255), `URLType` TEXT.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import types
from sqlalchemy.dialects import postgresql


class _UUIDType:
    """sqlalchemy_utils' UUIDType(binary=True, native=True)."""

    def __new__(cls, binary: bool = True, native: bool = True) -> Any:  # noqa: ARG004 - the library's signature
        if native:
            return postgresql.UUID()
        return types.LargeBinary(16) if binary else types.CHAR(32)


class _TSVectorType:
    """sqlalchemy_utils' TSVectorType(*columns, regconfig=...): the columns feed its triggers only."""

    def __new__(cls, *columns: Any, **options: Any) -> Any:  # noqa: ARG004 - the library's signature
        return postgresql.TSVECTOR()


class _EmailType:
    def __new__(cls, length: int = 255) -> Any:
        return types.Unicode(length)


WRAPPED_TYPES: dict[str, Any] = {
    "sqlmodel.sql.sqltypes.AutoString": types.String,
    "sqlmodel.AutoString": types.String,
    "sqlmodel.sql.sqltypes.GUID": postgresql.UUID,
    "sqlmodel.GUID": postgresql.UUID,
    "fastapi_users_db_sqlalchemy.generics.GUID": postgresql.UUID,
    "fastapi_users_db_sqlalchemy.generics.TIMESTAMPAware": types.TIMESTAMP,
    "sqlalchemy_utils.UUIDType": _UUIDType,
    "sqlalchemy_utils.types.uuid.UUIDType": _UUIDType,
    "sqlalchemy_utils.JSONType": postgresql.JSON,
    "sqlalchemy_utils.types.json.JSONType": postgresql.JSON,
    "sqlalchemy_utils.TSVectorType": _TSVectorType,
    "sqlalchemy_utils.types.ts_vector.TSVectorType": _TSVectorType,
    "sqlalchemy_utils.EmailType": _EmailType,
    "sqlalchemy_utils.types.email.EmailType": _EmailType,
    "sqlalchemy_utils.URLType": types.UnicodeText,
    "sqlalchemy_utils.types.url.URLType": types.UnicodeText,
}
# Modules that re-export SQLAlchemy's names: a name under them is SQLAlchemy's.
REEXPORTS = {"sqlmodel.sql.sqltypes.types.": "sqlalchemy.types.", "sqlmodel.": "sqlalchemy."}


def wrapped(path: str) -> tuple[Any, str | None]:
    """(the type `path` compiles as, None), or (None, the SQLAlchemy path it re-exports), or (None, None)."""
    if path in WRAPPED_TYPES:
        return WRAPPED_TYPES[path], None
    for prefix, replaced in REEXPORTS.items():
        if path.startswith(prefix) and "." not in path[len(prefix):]:
            return None, replaced + path[len(prefix):]
    return None, None
