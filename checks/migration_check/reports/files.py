"""How every report file is written: atomically (a reader never sees half a file, even if the run
is killed while writing) and readable by everyone (later workflow steps, the reporters, run as
another uid than the container).

A path that is not a regular file is written through, never replaced: `--junit-xml /dev/null`
replaced the device with a file of its own once (and every later program's writes to /dev/null
failed), and a FIFO or /dev/stdout must get the text. A symbolic link keeps pointing where it did:
the file it names is the one replaced."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_report(path: Path, text: str | Iterable[str]) -> None:
    """`text` whole, or in pieces written one after the other (never joined in memory)."""
    pieces = [text] if isinstance(text, str) else text
    target = path.resolve() if path.is_symlink() else path
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with target.open("w", encoding="utf-8") as handle:
            handle.writelines(pieces)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes it 0600
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(pieces)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
