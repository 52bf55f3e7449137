"""git's view of the base branch: it reads the base branch's migrations, never writes anything.

Every failure is a typed error with a one-line message. A base ref git cannot find is never a
silent pass: CI checkouts are shallow by default, and the fix (`fetch-depth: 0`) is in the message.
"""

from __future__ import annotations

from pathlib import Path

from migration_check.errors import InfrastructureError, UsageError
from migration_check.git_command import git_process, run_git

FETCH_ADVICE = (
    "fetch the base branch's history: with actions/checkout set `fetch-depth: 0`, "
    "or run `git fetch origin {ref}` before migration-check"
)


class BaseRefNotFound(InfrastructureError):
    """`--base-ref` names nothing git can resolve here: usually a shallow or single-branch clone."""

    def __init__(self, ref: str, repo: Path, shallow: bool) -> None:
        why = " (the clone is shallow)" if shallow else ""
        super().__init__(
            f"--base-ref {ref}: git cannot find {ref!r} in {repo}{why}; " + FETCH_ADVICE.format(ref=ref)
        )
        self.ref = ref
        self.repo = repo
        self.shallow = shallow


class NoMergeBase(InfrastructureError):
    """HEAD and the base share no commit that git knows of: the history was cut by a shallow fetch."""

    def __init__(self, ref: str, repo: Path) -> None:
        super().__init__(
            f"--base-ref {ref}: HEAD and {ref} have no common commit in {repo}, so the history is"
            f" incomplete; " + FETCH_ADVICE.format(ref=ref)
        )
        self.ref = ref
        self.repo = repo


def require_repository(repo: Path, ref: str) -> None:
    if git_process(repo, "rev-parse", "--git-dir").returncode != 0:
        raise UsageError(f"--base-ref {ref} needs a git repository, and {repo} is not inside one")


def resolve_base(repo: Path, ref: str) -> str:
    """The commit `ref` names. A branch name also matches `origin/<name>`, as CI checkouts have it."""
    require_repository(repo, ref)
    for candidate in (ref, f"refs/remotes/origin/{ref}"):
        found = git_process(repo, "rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}")
        if found.returncode == 0:
            return found.stdout.decode().strip()
    shallow = git_process(repo, "rev-parse", "--is-shallow-repository").stdout.decode().strip() == "true"
    raise BaseRefNotFound(ref, repo, shallow)


def merge_base(repo: Path, ref: str, base_commit: str) -> str:
    """Where HEAD left the base (the base commit itself when HEAD already contains it)."""
    found = git_process(repo, "merge-base", "HEAD", base_commit)
    if found.returncode != 0 or not found.stdout.strip():
        raise NoMergeBase(ref, repo)
    return found.stdout.decode().strip()


def tree_files(repo: Path, commit: str, directory: str) -> dict[str, bytes]:
    """Repository-relative path -> content of the files under `directory` at `commit`.

    `directory` is repository-relative ("" for the root, where only top-level files are read, so a
    root-level migrations directory does not pull in the whole repository).
    """
    args = ["ls-tree", "-z", "--full-tree"]
    if directory:
        args += ["-r", commit, "--", f"{directory}/"]
    else:
        args += [commit]
    blobs: list[tuple[str, str]] = []
    for record in run_git(repo, *args).split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        if kind == "blob" and mode != "120000":  # symlinks are not migrations
            blobs.append((path.decode("utf-8", "surrogateescape"), sha))
    contents = read_objects(repo, [sha for _, sha in blobs])
    return {path: data for (path, _), data in zip(blobs, contents, strict=True) if data is not None}


def read_objects(repo: Path, names: list[str]) -> list[bytes | None]:
    """The contents of objects (`sha` or `rev:path`), in order, with one `git cat-file --batch`.

    None for an object git does not have: a shallow history ends somewhere.
    """
    if not names:
        return []
    out = run_git(repo, "cat-file", "--batch", stdin="".join(f"{name}\n" for name in names).encode())
    contents: list[bytes | None] = []
    position = 0
    for _ in names:
        header_end = out.index(b"\n", position)
        header = out[position:header_end].split()
        if len(header) != 3 or not header[2].isdigit():  # "<name> missing" or "<name> ambiguous"
            contents.append(None)
            position = header_end + 1
            continue
        start, size = header_end + 1, int(header[2])
        contents.append(out[start : start + size])
        position = start + size + 1  # the content is followed by one newline
    return contents


def deleted_files(repo: Path, commit: str, directory: str) -> dict[str, bytes]:
    """Files under `directory` that commits reachable from `commit` deleted, as they were just before.

    The newest deletion of a path wins. Files whose content the (shallow) history lacks are left out.
    """
    spec = f"{directory}/" if directory else "."
    out = run_git(repo, "log", "--no-renames", "--diff-filter=D", "--name-only", "-z", "--format=%x01%H", commit, "--", spec)
    wanted: dict[str, str] = {}  # path -> the object just before its deletion
    for chunk in out.split(b"\x01"):
        sha, *paths = chunk.split(b"\0")
        for raw in paths:
            path = raw.strip(b"\n").decode("utf-8", "surrogateescape")
            if path:
                wanted.setdefault(path, f"{sha.decode()}^:{path}")
    contents = read_objects(repo, list(wanted.values()))
    return {path: data for path, data in zip(wanted, contents, strict=True) if data is not None}
