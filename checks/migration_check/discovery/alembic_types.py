"""Types of libraries that only wrap SQLAlchemy's, as each compiles on PostgreSQL (read from each
library's source): a migration that uses them writes the column its library would.

- sqlmodel: `AutoString` is VARCHAR; `GUID` (before 0.0.12) UUID; `sqlmodel.<Name>` and
  `sqlmodel.sql.sqltypes.types.<Name>` are SQLAlchemy's own, re-exported.
- fastapi-users' SQLAlchemy adapter: `GUID` is UUID, `TIMESTAMPAware` a TIMESTAMP.
- sqlalchemy-utils: `UUIDType` is UUID (CHAR(32) or BYTEA with `native=False`), `JSONType` JSON,
  `TSVectorType` TSVECTOR, `EmailType` VARCHAR(255), `URLType` TEXT, `ArrowType` TIMESTAMP (with its
  own arguments: `timezone=True`), `ChoiceType` its `impl` or VARCHAR(255), `CurrencyType`
  VARCHAR(3), `CountryType` VARCHAR(2), `LocaleType` VARCHAR(10), `TimezoneType` VARCHAR(50),
  `ColorType`, `IPAddressType` and `PhoneNumberType` VARCHAR(max_length), `ScalarListType` TEXT,
  `StringEncryptedType` VARCHAR and `EncryptedType` BYTEA (the ciphertext; its key and engine are
  the application's).
  Each is named as the library exports it: from the package, from `types`, or from its module.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import types
from sqlalchemy.dialects import postgresql


class _Made(types.TypeEngine[Any]):
    """A library's type class: SQLAlchemy takes it for a type as it is named (`sa.Column("a", T)`),
    and calls it (`__new__`) for the type it compiles as."""


class _UUIDType(_Made):
    """sqlalchemy_utils' UUIDType(binary=True, native=True)."""

    def __new__(cls, binary: bool = True, native: bool = True) -> Any:  # noqa: ARG004 - the library's signature
        if native:
            return postgresql.UUID()
        return types.LargeBinary(16) if binary else types.CHAR(32)


class _TSVectorType(_Made):
    """sqlalchemy_utils' TSVectorType(*columns, regconfig=...): the columns feed its triggers only."""

    def __new__(cls, *columns: Any, **options: Any) -> Any:  # noqa: ARG004 - the library's signature
        return postgresql.TSVECTOR()


class _EmailType(_Made):
    def __new__(cls, length: int = 255) -> Any:
        return types.Unicode(length)


class _ChoiceType(_Made):
    def __new__(cls, choices: Any, impl: Any = None) -> Any:  # noqa: ARG004 - the library's signature
        return impl if impl is not None else types.Unicode(255)


def _sized(default: int, position: int = 0) -> Any:
    """A type whose `max_length` (its `position`-th argument) makes a VARCHAR of that length."""
    class _Sized(_Made):
        def __new__(cls, *arguments: Any, **keywords: Any) -> Any:
            length = keywords.get("max_length", arguments[position] if len(arguments) > position else default)
            return types.Unicode(length)
    return _Sized


def _fixed(made: Any) -> Any:
    class _Fixed(_Made):
        def __new__(cls, *arguments: Any, **keywords: Any) -> Any:  # noqa: ARG004 - whatever the library takes
            return made()
    return _Fixed


def _encrypted(stored: Any) -> Any:
    """An encrypted type: the key and engine only turn values into ciphertext, stored as `stored`."""
    class _Encrypted(_Made):
        def __new__(cls, type_in: Any = None, key: Any = None, engine: Any = None,  # noqa: ARG004 - the library's
                    padding: Any = None, **keywords: Any) -> Any:  # noqa: ARG004
            return stored(**keywords)
    return _Encrypted


def _pgvector(name: str) -> Any:
    """pgvector's types (`Vector(1536)`): `VECTOR(1536)`, or the name alone without a size."""
    class _Vector(types.UserDefinedType[Any]):
        cache_ok = True

        def __init__(self, dim: int | None = None, length: int | None = None, **_other: Any) -> None:
            self.size = dim if dim is not None else length

        def get_col_spec(self, **_keywords: Any) -> str:
            return name if self.size is None else f"{name}({int(self.size)})"
    _Vector.__name__ = name
    return _Vector


# sqlalchemy_utils' types: (its module under sqlalchemy_utils.types, its name, what it compiles as)
_UTILS_TYPES = [
    ("uuid", "UUIDType", _UUIDType), ("json", "JSONType", postgresql.JSON), ("ts_vector", "TSVectorType", _TSVectorType),
    ("email", "EmailType", _EmailType), ("url", "URLType", types.UnicodeText), ("arrow", "ArrowType", types.DateTime),
    ("choice", "ChoiceType", _ChoiceType), ("currency", "CurrencyType", _fixed(lambda: types.String(3))),
    ("country", "CountryType", _fixed(lambda: types.String(2))), ("locale", "LocaleType", _fixed(lambda: types.Unicode(10))),
    ("timezone", "TimezoneType", _fixed(lambda: types.Unicode(50))), ("color", "ColorType", _sized(20)),
    ("ip_address", "IPAddressType", _sized(50)), ("phone_number", "PhoneNumberType", _sized(20, position=1)),
    ("scalar_list", "ScalarListType", _fixed(types.UnicodeText)),
    ("encrypted.encrypted_type", "StringEncryptedType", _encrypted(types.String)),
    ("encrypted.encrypted_type", "EncryptedType", _encrypted(types.LargeBinary)),
]
class _PasswordHash(_Made):
    def __new__(cls, backend: Any = None, length: int = 255) -> Any:  # noqa: ARG004 - the library's signature
        return types.String(length)


class _Backend:
    """An encryption or hashing backend a type is given: the application's, never the column's."""


# advanced_alchemy.types' (its module, its name, what it compiles as on PostgreSQL)
_ADVANCED_TYPES = [
    ("guid", "GUID", _fixed(postgresql.UUID)), ("datetime", "DateTimeUTC", _fixed(lambda: types.DateTime(timezone=True))),
    ("json", "ORA_JSONB", _fixed(postgresql.JSONB)),  # (an Oracle variant of a JSONB column: never PostgreSQL's)
    ("encrypted_string", "EncryptedString", _fixed(types.String)), ("encrypted_string", "EncryptedText", _fixed(types.Text)),
    ("encrypted_string", "FernetBackend", _Backend), ("encrypted_string", "PGCryptoBackend", _Backend),
    ("file_object", "StoredObject", _fixed(postgresql.JSONB)), ("password_hash.base", "PasswordHash", _PasswordHash),
    ("boolean", "Bool", types.Boolean), ("identity", "BigIntIdentity", types.BigInteger),
    ("vector", "Vector", _pgvector("VECTOR")),
]
WRAPPED_TYPES: dict[str, Any] = {
    "sqlmodel.sql.sqltypes.AutoString": types.String,
    "sqlmodel.AutoString": types.String,
    "sqlmodel.sql.sqltypes.GUID": postgresql.UUID,
    "sqlmodel.GUID": postgresql.UUID,
    "fastapi_users_db_sqlalchemy.generics.GUID": postgresql.UUID,
    "fastapi_users_db_sqlalchemy.generics.TIMESTAMPAware": types.TIMESTAMP,
    **{f"sqlalchemy_utils.{where}{name}": made for module, name, made in _UTILS_TYPES
       for where in ("", "types.", f"types.{module}.")},
    **{f"pgvector.sqlalchemy.{where}{name}": _pgvector(sql) for module, names, sql in (
        ("vector", ("Vector", "VECTOR"), "VECTOR"), ("halfvec", ("HalfVector", "HALFVEC"), "HALFVEC"),
        ("sparsevec", ("SparseVector", "SPARSEVEC"), "SPARSEVEC"), ("bit", ("Bit", "BIT"), "BIT"))
       for name in names for where in ("", f"{module}.")},
    **{f"advanced_alchemy.types.{where}{name}": made for module, name, made in _ADVANCED_TYPES
       for where in ("", f"{module}.")},
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
