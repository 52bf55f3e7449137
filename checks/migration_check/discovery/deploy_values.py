"""The values the runner's program or environment gives the migrations when it runs them, which the
repository does not hold: pop's template options (supabase/auth's `Namespace`, set by its migrate
command), the Flyway placeholders a project's code sets (openremote's `schemaName`), the variables
goose's `ENVSUB` reads from the deploy's environment. The user gives them (`--var NAME=VALUE`,
`vars:` in the config); discovery reads them while it runs, as the layouts read the repository.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

_GIVEN: ContextVar[Mapping[str, str]] = ContextVar("deploy_values", default=MappingProxyType({}))


@contextmanager
def values_given(values: Mapping[str, str]) -> Iterator[None]:
    """The values the layouts see while discovery runs inside the block."""
    token = _GIVEN.set(MappingProxyType(dict(values)))
    try:
        yield
    finally:
        _GIVEN.reset(token)


def given() -> Mapping[str, str]:
    """The values given (name -> value), as the user wrote the names."""
    return _GIVEN.get()
