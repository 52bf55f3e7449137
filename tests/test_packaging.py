"""The source follows the src layout inside checks/: the import name is the folder name, so editors,
static analysers and import-graph tools resolve every `migration_check.*` import to a file."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "checks" / "migration_check"
MAX_MODULE_LINES = 400


def test_packages_are_found_under_checks_not_listed_by_hand() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "package-dir" not in config
    assert config["packages"]["find"]["where"] == ["checks"]
    assert [p for p in (ROOT / "checks").iterdir() if p.suffix == ".py"] == []


def test_every_folder_of_the_package_is_a_package() -> None:
    for folder in PACKAGE.rglob("*"):
        if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("*.py")):
            assert (folder / "__init__.py").exists(), folder


def test_every_import_of_the_package_resolves_to_a_file_under_checks() -> None:
    unresolved = []
    for module in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("migration_check"):
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
                if not any(_resolves(name) for name in names):
                    unresolved.append(f"{module.relative_to(ROOT)}: {node.module}")
            elif isinstance(node, ast.Import):
                unresolved += [f"{module.relative_to(ROOT)}: {a.name}" for a in node.names
                               if a.name.startswith("migration_check") and not _resolves(a.name)]
    assert unresolved == []


def test_no_module_is_over_the_size_limit() -> None:
    too_long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
                if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert too_long == {}


def test_console_script_and_module_entry_points() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"migration-check": "migration_check.cli:main"}
    assert (PACKAGE / "__main__.py").exists()


def _resolves(dotted: str) -> bool:
    path = ROOT / "checks" / Path(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()
