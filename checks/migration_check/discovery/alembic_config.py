"""Where Alembic's configuration puts a project's revisions: alembic.ini's `[alembic]` section (or
pyproject.toml's `[tool.alembic]`), as alembic/config.py and script/base.py read it; and what the
script directory's env.py sets, as written out (`EnvPy`, read once per discovery).

- `script_location` is the script directory, its revisions in `versions/` below it; a path
  relative to the configuration file's directory (where `alembic` runs), `%(here)s` that directory,
  or a package resource `package.module:directory`, looked up in the repository and under `src/`.
- `version_locations` replaces `versions/` with its own list, separated as `path_separator` says
  (or `version_path_separator`: `os`, `space`, `newline`, `;`, `:`; without either, spaces or commas); the revisions of every
  location make one history, and env.py stays in the script directory.
"""

from __future__ import annotations

import ast
import configparser
import os
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from migration_check.discovery.base import repository_root, within_repository
from migration_check.discovery.listing import per_discovery
from migration_check.errors import FileError, read_utf8

SEPARATORS = {"os": os.pathsep, "space": " ", "newline": "\n", ";": ";", ":": ":"}


def alembic_locations(root: Path) -> Iterator[tuple[str, str]]:
    """The version locations the configuration files in `root` name, each with where it is said."""
    for settings, source in _settings(root):
        yield from _locations(root, settings, source)


def _settings(root: Path) -> Iterator[tuple[dict, str]]:
    """The `[alembic]` settings of the configuration files in `root`, `%(here)s` read as `root`."""
    ini = root / "alembic.ini"
    if ini.is_file():
        parser = configparser.ConfigParser(defaults={"here": str(root)})
        parser.read_string(ini.read_text(encoding="utf-8"))
        if parser.has_section("alembic"):
            yield dict(parser.items("alembic")), "alembic.ini"
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        settings = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("alembic")
        if isinstance(settings, dict):
            yield ({key: value.replace("%(here)s", str(root)) if isinstance(value, str) else value
                    for key, value in settings.items()}, "pyproject.toml [tool.alembic]")


@per_discovery
def _configured(folder: Path) -> list[tuple[dict, str]]:
    """`_settings` of `folder`, read once per discovery (every directory the search offers asks
    its parents); none where a file cannot be read."""
    try:
        return list(_settings(folder))
    except (OSError, ValueError, UnicodeDecodeError, configparser.Error, tomllib.TOMLDecodeError):
        return []


@dataclass(frozen=True)
class ScriptDirectory:
    """Where Alembic finds env.py, and every version location whose revisions make one history."""

    script: Path
    versions: tuple[Path, ...]


@per_discovery
def script_directory(versions: Path) -> ScriptDirectory:
    """The script directory and the version locations of the configuration that names `versions`
    among its `version_locations` (Alembic reads the revisions of all of them as one history: a
    platform's and its modules', each in a directory of its own); else `versions` alone, below its
    script directory."""
    target = versions.resolve()
    folders = within_repository(target) if repository_root(target) is not None else [target, *target.parents][:4]
    for folder in folders:
        for settings, source in _configured(folder):
            located = [(folder / relative).resolve() for relative, _ in _locations(folder, settings, source)]
            if target not in located:
                continue
            script = settings.get("script_location")
            scripts = _script_directories(folder, script.strip()) if isinstance(script, str) and script.strip() else []
            found = [folder / relative for relative in scripts if (folder / relative).is_dir()]
            return ScriptDirectory(found[0] if found else versions.parent,
                                   tuple(dict.fromkeys(path for path in located if path.is_dir())))
    return ScriptDirectory(versions.parent, (target,))


def _locations(root: Path, settings: dict, source: str) -> Iterator[tuple[str, str]]:
    script = settings.get("script_location")
    versions = settings.get("version_locations")
    if isinstance(versions, list):
        yield from ((str(v), f"{source} `version_locations`") for v in versions)
        return
    if isinstance(versions, str) and versions.strip():
        # `version_path_separator` is the name older templates wrote (Alembic still reads it).
        named = settings.get("path_separator", settings.get("version_path_separator", ""))
        separator = SEPARATORS.get(str(named).strip())
        parts = versions.split(separator) if separator else re.split(r", *|(?: +)", versions.strip())
        yield from ((part.strip(), f"{source} `version_locations`") for part in parts if part.strip())
        return
    if isinstance(script, str) and script.strip():
        for directory in _script_directories(root, script.strip()):
            yield os.path.join(directory, "versions"), f"{source} `script_location`"


def _script_directories(root: Path, script: str) -> list[str]:
    if ":" in script and not Path(script).is_absolute():
        package, _, folder = script.partition(":")
        relative = os.path.join(*package.split("."), *folder.split(":"))
        return [relative, os.path.join("src", relative)]
    return [script]


@dataclass(frozen=True)
class EnvPy:
    """What the script directory's env.py sets, where it writes it out."""

    imports: frozenset[str] = frozenset()  # top-level modules it imports: plugins register operations on `op`
    transaction_per_migration: bool = False  # `context.configure(transaction_per_migration=True)`
    autocommit: bool = False  # `connection.execution_options(isolation_level="AUTOCOMMIT")`: each statement alone
    version_table: str | None = None  # `version_table` (qualified by `version_table_schema`, else public)
    convention: dict[str, str] | None = None  # the naming convention of its `target_metadata`, from the source
    # What `context.run_migrations(name=value)` passes to every upgrade() and downgrade() (Alembic
    # calls them with these keywords): the dotted path of an imported value (quay's `op=alembic_op`),
    # else "" (a value of env.py's own: quay's `tables`, `tester`).
    arguments: tuple[tuple[str, str], ...] = ()


NO_ENV = EnvPy()


@per_discovery
def env_py(versions: Path) -> EnvPy:
    """What env.py beside the version directory `versions` sets (nothing where there is none)."""
    env = script_directory(versions).script / "env.py"
    try:
        module = ast.parse(read_utf8(env)) if env.is_file() else None
    except (SyntaxError, ValueError, RecursionError, MemoryError, FileError):
        module = None
    if module is None:
        return NO_ENV
    keywords = [(node.arg, node.value.value) for node in ast.walk(module)
                if isinstance(node, ast.keyword) and isinstance(node.value, ast.Constant) and node.arg]
    strings = {name: value for name, value in keywords if isinstance(value, str)}
    table = strings.get("version_table")
    return EnvPy(
        imports=frozenset(name.split(".")[0] for node in ast.walk(module)
                          for name in ([alias.name for alias in node.names] if isinstance(node, ast.Import) else
                                       [node.module or ""] if isinstance(node, ast.ImportFrom) else [])),
        transaction_per_migration=any(name == "transaction_per_migration" and value is True for name, value in keywords),
        autocommit=strings.get("isolation_level", "").upper() == "AUTOCOMMIT",
        version_table=f"{strings.get('version_table_schema') or 'public'}.{table}" if table else None,
        convention=_naming_convention(module, module_roots(versions)),
        arguments=_run_migrations_arguments(module),
    )


def _run_migrations_arguments(module: ast.Module) -> tuple[tuple[str, str], ...]:
    from migration_check.discovery.alembic_values import imported
    imports = {name: path for node in ast.walk(module) if isinstance(node, ast.Import | ast.ImportFrom)
               for name, path in imported(node).items()}
    calls = [node for node in ast.walk(module) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and node.func.attr == "run_migrations"]
    return tuple((keyword.arg, imports.get(keyword.value.id, "") if isinstance(keyword.value, ast.Name) else "")
                 for call in calls[:1] for keyword in call.keywords if keyword.arg)


def module_roots(directory: Path) -> tuple[Path, ...]:
    """Where the project's modules are, as its env.py finds them on sys.path: the folders from the
    revisions' up to the repository's root (alembic.ini's `prepend_sys_path = .` among them), and
    the `src/` of each."""
    return tuple(root for folder in within_repository(directory.resolve()) for root in (folder, folder / "src"))


def _naming_convention(module: ast.Module, roots: tuple[Path, ...]) -> dict[str, str] | None:
    """The naming convention of env.py's `target_metadata` (one MetaData), as its source writes it."""
    from migration_check.discovery.alembic_project import convention_in, naming_convention
    from migration_check.discovery.alembic_values import imported
    if (own := convention_in(module)) is not None:
        return own
    imports = {name: path for node in module.body if isinstance(node, ast.Import | ast.ImportFrom)
               for name, path in imported(node).items()}
    target = next((node.value for node in module.body if isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "target_metadata" for t in node.targets)), None)
    if not isinstance(target, ast.Attribute | ast.Name):
        return None  # none, or several MetaData (a list): Alembic then applies no convention
    root, _, rest = ast.unparse(target).partition(".")
    if root not in imports or imports[root].startswith("."):
        return None
    return naming_convention(".".join(part for part in (imports[root], rest) if part), roots)
