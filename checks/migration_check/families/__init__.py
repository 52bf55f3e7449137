"""The check families of the replay, one module each (see base.py for how a family plugs in).

`REPLAY_FAMILIES` is the registry, in report order. A new family is one module with a `Family`
subclass, added here; the runner needs no change.
"""

from __future__ import annotations

from migration_check.families.apply import Apply
from migration_check.families.base import Family, MigrationContext, Stage, StepRun
from migration_check.families.data import Data
from migration_check.families.integrity import Integrity
from migration_check.families.locks import Locks
from migration_check.families.reapply import Reapply
from migration_check.families.rollback import Rollback
from migration_check.families.roundtrip import Roundtrip
from migration_check.families.verify import Verify
from migration_check.settings import Settings

REPLAY_FAMILIES: tuple[type[Family], ...] = (Apply, Verify, Locks, Rollback, Roundtrip, Data, Integrity, Reapply)
# The families that need rows in the tables; `--no-data` turns them off, and the rows with them.
DATA_FAMILIES = (Data, Integrity)


def replay_families(settings: Settings) -> list[Family]:
    return [family(settings) for family in REPLAY_FAMILIES if settings.data or family not in DATA_FAMILIES]


__all__ = ["REPLAY_FAMILIES", "Family", "MigrationContext", "Stage", "StepRun", "replay_families"]
