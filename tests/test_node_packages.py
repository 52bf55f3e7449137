"""The npm package versions a project runs, read from its lock file or package.json (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_files
from migration_check.discovery.node_packages import versions_of
from migration_check.discovery.prisma import transaction_of
from migration_check.model import Transaction

# Each lock format as the real repositories commit it (trimmed): the versions it installs.
LOCKS = {
    "npm v3 (documenso)": ("package-lock.json",
                           '{"lockfileVersion": 3, "packages": {"": {}, "node_modules/prisma": {"version": "6.19.3"}}}',
                           (6, 19, 3)),
    "npm v1": ("package-lock.json", '{"lockfileVersion": 1, "dependencies": {"prisma": {"version": "4.16.2"}}}',
               (4, 16, 2)),
    "pnpm v9 (umami)": ("pnpm-lock.yaml",
                        "lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    devDependencies:\n      prisma:\n"
                        "        specifier: ^7.6.0\n        version: 7.6.0\n\npackages:\n\n  '@prisma/client@7.6.0':\n"
                        "    resolution: {}\n\n  prisma@7.6.0:\n    resolution: {}\n\nsnapshots:\n\n"
                        "  prisma@7.6.0(typescript@5.9.3):\n    dependencies: {}\n", (7, 6, 0)),
    "pnpm v5": ("pnpm-lock.yaml", "lockfileVersion: 5.4\n\npackages:\n\n  /prisma/4.16.2:\n    resolution: {}\n",
                (4, 16, 2)),
    "yarn classic": ("yarn.lock", '"@prisma/client@^5.0.0":\n  version "5.1.0"\n\nprisma@^5.22.0:\n'
                                  '  version "5.22.0"\n  resolved "https://x"\n', (5, 22, 0)),
    "yarn berry": ("yarn.lock", '"prisma@npm:^7.8.0":\n  version: 7.8.0\n  resolution: "prisma@npm:7.8.0"\n',
                   (7, 8, 0)),
}


@pytest.mark.parametrize("case", sorted(LOCKS))
def test_a_lock_file_gives_the_installed_version(tmp_path: Path, case: str) -> None:
    name, text, version = LOCKS[case]
    root = write_files(tmp_path, {".git/HEAD": "", name: text, "prisma/migrations/x": ""})
    found = versions_of("prisma", root / "prisma/migrations")
    assert found is not None and (found.lowest, found.source.name) == (version, name)
    assert found.all_below((version[0], version[1], version[2] + 1)) and found.all_at_least(version)


@pytest.mark.parametrize(("asked", "lowest", "below"), [
    ("^6.19.3", (6, 19, 3), (7, 0, 0)),
    ("~7.4.1", (7, 4, 1), (7, 5, 0)),
    ("7.8.0", (7, 8, 0), (7, 8, 1)),
    ("^0.9.1", (0, 9, 1), (0, 10, 0)),
])
def test_without_a_lock_the_range_package_json_asks_for(tmp_path: Path, asked: str, lowest: tuple, below: tuple) -> None:
    root = write_files(tmp_path, {".git/HEAD": "", "package.json": f'{{"devDependencies": {{"prisma": "{asked}"}}}}'})
    found = versions_of("prisma", root)
    assert found is not None and (found.lowest, found.below) == (lowest, below)


@pytest.mark.parametrize("asked", ["latest", ">=5", "^5 || ^6", "5.x", "workspace:*", "catalog:"])
def test_a_range_it_cannot_bound_is_unknown(tmp_path: Path, asked: str) -> None:
    root = write_files(tmp_path, {".git/HEAD": "", "package.json": f'{{"dependencies": {{"prisma": "{asked}"}}}}'})
    assert versions_of("prisma", root) is None


def test_the_search_goes_up_to_the_repository_root_and_no_further(tmp_path: Path) -> None:
    # A monorepo (documenso): the package's own package.json, the lock at the root.
    root = write_files(tmp_path / "repo", {
        ".git/HEAD": "", "package-lock.json": '{"packages": {"node_modules/prisma": {"version": "5.22.0"}}}',
        "packages/prisma/package.json": '{"devDependencies": {"prisma": "^5.22.0"}}',
        "packages/prisma/migrations/migration_lock.toml": "",
    })
    assert versions_of("prisma", root / "packages/prisma/migrations").lowest == (5, 22, 0)  # type: ignore[union-attr]
    write_files(tmp_path, {"package.json": '{"devDependencies": {"prisma": "7.8.0"}}'})  # outside the repository
    assert versions_of("prisma", write_files(tmp_path / "other", {".git/HEAD": ""})) is None


@pytest.mark.parametrize(("asked", "transaction"), [
    ("^5.22.0", Transaction.ONE_QUERY),  # sent whole: one implicit transaction
    ("~7.4.0", Transaction.AUTO),  # around the change (7.4/7.5): the executor decides, as without a version
    ("^7.5.0", Transaction.NONE),  # split into statements, each on its own
])
def test_prisma_runs_a_migration_as_its_version_does(tmp_path: Path, asked: str, transaction: Transaction) -> None:
    root = write_files(tmp_path, {".git/HEAD": "", "package.json": f'{{"devDependencies": {{"prisma": "{asked}"}}}}',
                                  "prisma/migrations/migration_lock.toml": ""})
    assert transaction_of(root / "prisma/migrations") is transaction
