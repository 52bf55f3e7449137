"""Schema snapshots read from the catalogs, and the differences between two of them."""

from migration_check.schema.diff import Difference, describe_reapply, describe_rollback, diff_snapshots
from migration_check.schema.snapshot import Definition, ObjectKey, Snapshot, take_snapshot

__all__ = [
    "Definition",
    "Difference",
    "ObjectKey",
    "Snapshot",
    "describe_reapply",
    "describe_rollback",
    "diff_snapshots",
    "take_snapshot",
]
