"""The config file: found, validated with lines, merged under the command-line flags."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from migration_check.config import find_config, resolve_settings
from migration_check.errors import ConfigError
from migration_check.model import RollbackPolicy, Severity


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A directory that counts as a git root (config discovery stops at `.git`)."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "db" / "migrations").mkdir(parents=True)
    (root / "db" / "setup.sql").write_text("create role app;\n")
    return root


FULL_YAML = """
path: db/migrations
format: timestamp
naming-pattern: '^\\d{14}_[a-z_]+(_rollback)?\\.sql$'
rollbacks: optional
base-ref: main
ignore: ["*.md", "db/migrations/old/*"]
setup: [supabase, db/setup.sql]
severity: {naming: warning, lint: error}
fail-on: warning
strict-column-order: true
postgres-image: postgres:16
pg-bindir: /usr/lib/postgresql/16/bin
"""


def test_every_key_of_the_yaml_file(repo: Path) -> None:
    write(repo / ".migration-check.yml", FULL_YAML)
    settings = resolve_settings({"path": repo / "db" / "migrations"})  # found walking up
    assert settings.config == repo / ".migration-check.yml"
    assert settings.path == repo / "db" / "migrations"  # the flag, over the file
    assert settings.format == "timestamp"
    assert settings.naming_pattern == r"^\d{14}_[a-z_]+(_rollback)?\.sql$"
    assert settings.rollbacks is RollbackPolicy.OPTIONAL
    assert settings.base_ref == "main"
    assert settings.ignore == ["*.md", "db/migrations/old/*"]
    assert settings.setup == ["supabase", str(repo / "db" / "setup.sql")]
    assert settings.severity == {"naming": Severity.WARNING, "lint": Severity.ERROR}
    assert settings.fail_on is Severity.WARNING
    assert settings.strict_column_order is True
    assert settings.postgres_image == "postgres:16"
    assert settings.pg_bindir == Path("/usr/lib/postgresql/16/bin")


def test_paths_are_relative_to_the_config_file(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(repo / "db" / ".migration-check.yml", "path: migrations\nsetup: [setup.sql]\nignore: [old/*, '*.txt']\n")
    monkeypatch.chdir(repo / "db")
    settings = resolve_settings({})
    assert settings.path == repo / "db" / "migrations"
    assert settings.setup == [str(repo / "db" / "setup.sql")]
    assert settings.ignore == ["db/old/*", "*.txt"]  # made repository-relative, as discovery matches them


def test_pyproject_table(repo: Path) -> None:
    write(repo / "pyproject.toml", """
        [project]
        name = "app"

        [tool.migration-check]
        path = "db/migrations"
        rollbacks = "absent"

        [tool.migration-check.severity]
        history = "warning"
    """)
    settings = resolve_settings({"path": repo})
    assert settings.config == repo / "pyproject.toml"
    assert settings.path == repo  # the flag wins
    assert settings.rollbacks is RollbackPolicy.ABSENT
    assert settings.severity == {"history": Severity.WARNING}


def test_flags_override_the_file(repo: Path) -> None:
    write(repo / ".migration-check.yml", "base-ref: main\nformat: timestamp\nrollbacks: optional\n")
    settings = resolve_settings({"path": repo, "base_ref": "develop", "format": "golang-migrate", "rollbacks": "required"})
    assert (settings.base_ref, settings.format, settings.rollbacks) == ("develop", "golang-migrate", RollbackPolicy.REQUIRED)


def test_vars_from_the_flags_join_the_file_s(repo: Path) -> None:
    write(repo / ".migration-check.yml", "vars: {Namespace: auth, Port: 5432}\n")
    settings = resolve_settings({"path": repo, "vars": {"Namespace": "identity", "Role": "app"}})
    assert settings.vars == {"Namespace": "identity", "Port": "5432", "Role": "app"}


def test_an_empty_base_ref_flag_is_not_given(repo: Path) -> None:
    write(repo / ".migration-check.yml", "base-ref: main\n")
    assert resolve_settings({"path": repo, "base_ref": ""}).base_ref == "main"


def test_explicit_config_file(repo: Path, tmp_path: Path) -> None:
    other = write(tmp_path / "elsewhere" / "ci.yml", "path: ../repo/db/migrations\n")
    write(repo / ".migration-check.yml", "unknown: 1\n")  # not read: --config picks the file
    settings = resolve_settings({"config": other, "path": repo})
    assert settings.config == other and settings.path == repo


def test_explicit_standalone_toml(tmp_path: Path) -> None:
    config = write(tmp_path / "mc.toml", 'format = "timestamp"\n')
    assert resolve_settings({"config": config}).format == "timestamp"


def test_no_config_means_defaults(repo: Path) -> None:
    settings = resolve_settings({"path": repo})
    assert settings.config is None and settings.rollbacks is None and settings.fail_on is Severity.ERROR


def test_discovery_stops_at_the_git_root(tmp_path: Path, repo: Path) -> None:
    write(tmp_path / ".migration-check.yml", "format: timestamp\n")  # above the repository
    assert find_config(repo / "db" / "migrations") is None


def test_yml_and_pyproject_in_one_directory_is_an_error(repo: Path) -> None:
    write(repo / ".migration-check.yml", "format: timestamp\n")
    write(repo / "pyproject.toml", '[tool.migration-check]\nformat = "timestamp"\n')
    with pytest.raises(ConfigError, match="keep one"):
        find_config(repo)


def test_unrelated_pyproject_is_passed_over(repo: Path) -> None:
    write(repo / "pyproject.toml", "this is [ not toml\n")
    assert find_config(repo) is None


# --- errors name the key, the file and the line ---------------------------------------------------


def error_of(repo: Path, name: str, text: str) -> ConfigError:
    path = write(repo / name, text)
    with pytest.raises(ConfigError) as caught:
        resolve_settings({"path": repo})
    assert Path(caught.value.path) == path
    return caught.value


def test_unknown_key_in_yaml(repo: Path) -> None:
    error = error_of(repo, ".migration-check.yml", "format: timestamp\n\nbase_reff: main\n")
    assert error.line == 3 and "base-reff" in error.message and "unknown key" in error.message
    assert str(error).startswith(f"{repo / '.migration-check.yml'}:3: ")


def test_wrong_type_in_yaml(repo: Path) -> None:
    error = error_of(repo, ".migration-check.yml", "format: timestamp\nstrict-column-order: maybe\n")
    assert error.line == 2 and "strict-column-order" in error.message and "true or false" in error.message


def test_wrong_type_inside_a_list_points_at_the_item(repo: Path) -> None:
    error = error_of(repo, ".migration-check.yml", "ignore:\n  - '*.md'\n  - 3\n")
    assert error.line == 3 and "ignore" in error.message and "entry 2" in error.message


def test_unknown_check_family_points_at_its_line(repo: Path) -> None:
    error = error_of(repo, ".migration-check.yml", "severity:\n  naming: warning\n  speling: error\n")
    assert error.line == 3 and "speling" in error.message


def test_bad_values(repo: Path) -> None:
    for text, expected in [
        ("rollbacks: sometimes\n", "required, optional, absent"),
        ("format: liquibase-xml\n", "expected one of"),
        ("naming-pattern: '[unclosed'\n", "regular expression"),
        ("fail-on: fatal\n", "error, warning"),
        ("setup: [missing.sql]\n", "no such file"),
        ("severity: loud\n", "mapping"),
        ("path: 3\n", "string"),
        ("vars: [Namespace]\n", "mapping of name to value"),
    ]:
        error = error_of(repo, ".migration-check.yml", text)
        assert expected in error.message and error.line == 1, (text, error)


def test_yaml_syntax_and_shape_errors(repo: Path) -> None:
    assert error_of(repo, ".migration-check.yml", "format: timestamp\nignore: [a\n").line is not None
    assert "mapping" in error_of(repo, ".migration-check.yml", "- format\n").message
    assert error_of(repo, ".migration-check.yml", "format: timestamp\nformat: timestamp\n").line == 2
    assert "twice" in error_of(repo, ".migration-check.yml", "fail-on: error\nfail_on: error\n").message


def test_unknown_key_in_pyproject(repo: Path) -> None:
    error = error_of(repo, "pyproject.toml", '[project]\nname = "x"\n\n[tool.migration-check]\nformat = "timestamp"\nrollback = "optional"\n')
    assert error.line == 6 and "rollback" in error.message


def test_wrong_type_in_pyproject_nested_table(repo: Path) -> None:
    error = error_of(repo, "pyproject.toml", '[tool.migration-check]\nformat = "timestamp"\n[tool.migration-check.severity]\nnaming = "loud"\n')
    assert error.line == 4 and "naming" in error.message


def test_wrong_type_in_pyproject_inline_table(repo: Path) -> None:
    error = error_of(repo, "pyproject.toml", '[tool.migration-check]\n\nseverity = { naming = "warning", histroy = "error" }\n')
    assert error.line == 3 and "histroy" in error.message


def test_bad_toml_gives_its_line(repo: Path) -> None:
    error = error_of(repo, "pyproject.toml", '[tool.migration-check]\nformat = "timestamp"\nbase-ref = main\n')
    assert error.line == 3 and "TOML" in error.message


def test_missing_explicit_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such config file"):
        resolve_settings({"config": tmp_path / "nope.yml"})


def test_unknown_flag_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="database"):
        resolve_settings({"database": "x"})
