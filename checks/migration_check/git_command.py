"""The one place that starts git: `git -C repo ...`, with typed errors carrying what failed.

The history checks read the base branch through it (history/git.py); discovery asks it where the
work tree is, which SQL files are tracked (a baseline schema) and whether the project turns a
runner's option on (golang-migrate's x-multi-statement).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from migration_check.errors import InfrastructureError


class GitError(InfrastructureError):
    """git itself failed (not installed, or a command that should work did not)."""

    def __init__(self, args: tuple[str, ...], stderr: str) -> None:
        super().__init__(f"git {' '.join(args)} failed: {stderr.strip() or 'no message'}")
        self.args_ = args
        self.stderr = stderr


def run_git(repo: Path, *args: str, stdin: bytes | None = None, timeout: float | None = None) -> bytes:
    """stdout of `git -C repo args...`; GitError when git fails or is missing."""
    completed = git_process(repo, *args, stdin=stdin, timeout=timeout)
    if completed.returncode != 0:
        raise GitError(args, completed.stderr.decode("utf-8", "replace"))
    return completed.stdout


def git_succeeds(repo: Path, *args: str, timeout: float | None = None) -> bool:
    """Whether `git -C repo args...` exits 0 (`git grep -q` found something); False when git fails,
    is missing or `repo` is in no repository: a question git cannot answer has no for an answer."""
    try:
        return git_process(repo, *args, timeout=timeout).returncode == 0
    except InfrastructureError:
        return False


def git_process(repo: Path, *args: str, stdin: bytes | None = None,
                timeout: float | None = None) -> subprocess.CompletedProcess[bytes]:
    """`git -C repo args...` as it ended, whatever its exit code; InfrastructureError without git."""
    try:
        return subprocess.run(
            # quotepath off: names come back as bytes, not C-quoted, whatever their characters.
            ["git", "-c", "core.quotepath=off", "-C", str(repo), *args],
            input=stdin,
            capture_output=True,
            check=False,
            timeout=timeout,
        )
    except FileNotFoundError:
        raise InfrastructureError("--base-ref needs git, and git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitError(args, f"no answer within {timeout} s") from None
