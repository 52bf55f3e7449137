"""How every report file is written: atomically (a reader never sees half a file, even if the run
is killed while writing) and readable by everyone (later workflow steps, the reporters, run as
another uid than the container)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_report(path: Path, text: str | Iterable[str]) -> None:
    """`text` whole, or in pieces written one after the other (never joined in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes it 0600
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines([text] if isinstance(text, str) else text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
