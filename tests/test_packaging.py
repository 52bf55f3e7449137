"""The install maps checks/ to the import name migration_check, and ships every subpackage."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_source_package_is_installed_and_nothing_else() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"migration_check": "checks"}
    on_disk = {"migration_check"} | {
        "migration_check." + ".".join(p.parent.relative_to(ROOT / "checks").parts)
        for p in (ROOT / "checks").rglob("__init__.py") if p.parent != ROOT / "checks"
    }
    assert set(config["packages"]) == on_disk


def test_console_script_and_module_entry_points() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"migration-check": "migration_check.cli:main"}
    assert (ROOT / "checks" / "__main__.py").exists()
