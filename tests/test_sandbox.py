"""Untrusted migrations stay inside the sandbox (issue 10): nothing outside the repository is read
for them, the local server sees no network, environment or foreign files. Through the CLI."""

from __future__ import annotations

import pwd
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import write_files
from migration_check.cli import main
from migration_check.servers import sandbox
from migration_check.servers.base import Database
from migration_check.servers.local import unprivileged_user

ROLLBACK = {"migrations/20250101000000_a_rollback.sql": "select 1;\n"}


def check(tmp_path: Path, root: Path, *extra: str) -> tuple[int, ET.Element, str]:
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--junit-xml", str(report), "-q", *extra])
    return code, ET.parse(report).getroot(), report.read_text()


def run_error(junit: ET.Element) -> str:
    [error] = [c.find("error") for c in junit.iter("testcase") if c.find("error") is not None]
    assert error is not None
    return error.attrib["message"]


def test_a_symlinked_migration_outside_the_repository_is_refused(pg_server: Database, tmp_path: Path) -> None:
    root = write_files(tmp_path / "repo", ROLLBACK)
    (root / "migrations/20250101000000_a.sql").symlink_to("/etc/passwd")
    code, junit, text = check(tmp_path, root, "--database-url", pg_server.conninfo)
    assert code == 2
    assert "20250101000000_a.sql:1: is a symbolic link to /etc/passwd, outside the repository" in run_error(junit)
    assert "root:" not in text  # nothing of the file is printed


@pytest.mark.parametrize("include", ["\\i /etc/passwd", "\\ir ../../../../../../../../etc/passwd", "\\i ../outside.sql",
                                     "\\copy t from '/etc/passwd'", "\\COPY t from '../outside.sql'"])
def test_includes_that_leave_the_repository_are_refused_at_their_line(pg_server: Database, tmp_path: Path, include: str) -> None:
    (tmp_path / "outside.sql").write_text("select 'secret';\n")
    root = write_files(tmp_path / "repo", {**ROLLBACK, "migrations/20250101000000_a.sql": f"select 1;\n{include}\n"})
    code, junit, text = check(tmp_path, root, "--database-url", pg_server.conninfo)
    [apply] = [c for c in junit.iter("testcase") if c.attrib["classname"] == "migration_check.apply"]
    assert code == 1 and apply.attrib["line"] == "2"
    assert "is outside the repository" in apply.find("failure").attrib["message"]
    assert "root:" not in text and "secret" not in text


def test_dangling_links_and_directories_named_like_migrations_are_errors(pg_server: Database, tmp_path: Path) -> None:
    root = write_files(tmp_path / "repo", {**ROLLBACK, "migrations/20250101000000_a.sql": "select 1;\n"})
    (root / "migrations/20250102000000_b.sql").symlink_to(root / "nowhere.sql")
    code, junit, _ = check(tmp_path, root, "--database-url", pg_server.conninfo)
    assert code == 2 and "20250102000000_b.sql: is a symbolic link to" in run_error(junit)
    (root / "migrations/20250102000000_b.sql").unlink()
    (root / "migrations/20250103000000_c.sql").mkdir()
    code, junit, _ = check(tmp_path, root, "--database-url", pg_server.conninfo)
    assert code == 2 and "20250103000000_c.sql: is a directory named like a migration file" in run_error(junit)
    # A link named like no migration is none of the check's business (JasonLamey/Side7v5-Dancer2: a
    # sqitch project at the repository's root, beside public/galleries -> /data/galleries/).
    (root / "migrations/20250103000000_c.sql").rmdir()
    (root / "migrations/galleries").symlink_to("/data/galleries/")
    code, junit, _ = check(tmp_path, root, "--database-url", pg_server.conninfo)
    assert code == 0


def test_a_setup_file_outside_the_repository_is_refused_when_the_config_names_it(pg_server: Database, tmp_path: Path) -> None:
    # The config comes with the pull request; the command line is the user's own choice.
    (tmp_path / "evil.sql").write_text("select 1;\n")
    root = write_files(tmp_path / "repo", {**ROLLBACK, "migrations/20250101000000_a.sql": "select 1;\n",
                                           ".migration-check.yml": f"setup: [{tmp_path / 'evil.sql'}]\n"})
    code, junit, _ = check(tmp_path, root, "--database-url", pg_server.conninfo)
    assert code == 2
    assert "is outside the repository; setup scripts named by the config are read only from the repository" in run_error(junit)
    code, _, _ = check(tmp_path, root, "--database-url", pg_server.conninfo, "--setup", str(tmp_path / "evil.sql"))
    assert code == 0


def sandbox_unavailable() -> str | None:
    user = unprivileged_user()
    return sandbox.why_not(pwd.getpwnam(user).pw_uid if user else None)


@pytest.mark.skipif(sandbox_unavailable() is not None, reason=f"no sandbox here: {sandbox_unavailable()}")
def test_the_local_server_sees_no_network_environment_or_foreign_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secret_token_value")
    probe = ("id -u; env | grep -c TOKEN; ls /root " + str(tmp_path) + " 2>&1 | wc -l;"
             " (getent hosts localhost >/dev/null && echo resolved) || echo no-name-service")
    root = write_files(tmp_path / "repo", {
        **ROLLBACK,
        "migrations/20250101000000_a.sql": (
            "create temp table seen (line text);\n"
            # Built at run time, so no static check can see it: the OS sandbox must contain it.
            f"do $$ begin execute 'copy seen from ' || 'pro' || 'gram ' || quote_literal('{probe}'); end $$;\n"
            "do $$ declare r text; begin select string_agg(line, ',') into r from seen;"
            " raise exception 'seen: %', r; end $$;\n"
        ),
    })
    code, junit, text = check(tmp_path, root)
    [apply] = [c for c in junit.iter("testcase") if c.attrib["classname"] == "migration_check.apply"]
    message = apply.find("failure").attrib["message"]
    seen = message.split("seen: ", 1)[1].split(",")
    assert seen[1] == "0"  # no token in the server's environment
    assert int(seen[2]) == 2  # two "cannot access" lines: neither /root nor the repository exist there
    assert "ghs_secret_token_value" not in text


@pytest.mark.parametrize("url", ["postgresql://app:s3cret@[::1/db", "postgresql://app:s3cret%zz@host/db",
                                 "postgresql://app:s3cret@host:notaport/db"])
@pytest.mark.parametrize("in_actions", [False, True])
def test_a_malformed_url_never_prints_its_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str], url: str, in_actions: bool) -> None:
    from migration_check.reports import github

    monkeypatch.setattr(github._State, "masked", set())  # masks are emitted once per process
    if in_actions:
        monkeypatch.setenv("GITHUB_ACTIONS", "true")
    else:
        monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    root = write_files(tmp_path / "repo", {**ROLLBACK, "migrations/20250101000000_a.sql": "select 1;\n"})
    code, junit, text = check(tmp_path, root, "--database-url", url)
    captured = capsys.readouterr()
    printed = captured.out + captured.err
    assert code == 2 and "Traceback" not in printed
    lines_with_secret = [line for line in (printed + text).splitlines() if "s3cret" in line]
    # Under Actions the only lines that hold it are the masks, emitted before anything else.
    assert all(line.startswith("::add-mask::") for line in lines_with_secret), lines_with_secret
    assert bool(lines_with_secret) == in_actions


def test_a_yaml_alias_bomb_in_the_config_is_refused_at_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = ('a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
            + "".join(f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True)))
    assert len(bomb) < 400
    root = write_files(tmp_path / "repo", {**ROLLBACK, "migrations/20250101000000_a.sql": "select 1;\n",
                                           ".migration-check.yml": bomb})
    report = tmp_path / "report.xml"
    code = main(["check", str(root), "--junit-xml", str(report)])
    err = capsys.readouterr().err
    assert code == 2
    assert ".migration-check.yml:2: not valid YAML: aliases (*name) are not allowed in the config file" in err
    assert report.exists()


def test_escape_sequences_in_names_and_messages_are_shown_escaped(pg_server: Database, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = write_files(tmp_path / "repo", {
        **ROLLBACK,
        "migrations/20250101000000_a.sql": "create table \"x\x1b[2Jy\" (id int);\nselect 1/0 as \"\x1b]0;pwned\x07\";\n",
    })
    main(["check", str(root), "--database-url", pg_server.conninfo, "-v"])
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "\\x1b]0;pwned\\x07" in out  # the failing statement, shown escaped


@pytest.mark.parametrize(("sql", "words"), [
    ("copy seen from program 'id';", "COPY ... PROGRAM runs a program"),
    ("copy seen to '/tmp/stolen.csv';", "COPY ... '/tmp/stolen.csv' reads or writes a file"),
    ("select length(pg_read_file('/etc/passwd'));", "pg_read_file() reaches files"),
    ("insert into seen select lo_import('/etc/hostname')::text;", "lo_import() reaches files"),
])
def test_statements_that_reach_outside_the_server_are_refused_at_their_line(
        pg_server: Database, tmp_path: Path, sql: str, words: str) -> None:
    root = write_files(tmp_path / "repo", {**ROLLBACK, "migrations/20250101000000_a.sql":
                                           f"create temp table seen (line text);\n{sql}\n"})
    code, junit, _ = check(tmp_path, root, "--database-url", pg_server.conninfo)
    [apply] = [c for c in junit.iter("testcase") if c.attrib["classname"] == "migration_check.apply"]
    assert code == 1 and apply.attrib["line"] == "2"
    assert f"refused: {words}" in apply.find("failure").attrib["message"]


def test_files_under_usr_that_point_through_debians_alternatives_open_in_the_sandbox(tmp_path: Path) -> None:
    # Debian's PostGIS installs its extension control files as links through /etc/alternatives:
    # without them in the sandbox the server lists the extension and cannot open it, and every
    # read of pg_available_extensions fails ("extension address_standardizer is not available").
    if sandbox.why_not(None) is not None:
        pytest.skip(f"no sandbox here: {sandbox.why_not(None)}")
    alternatives = Path("/etc/alternatives")
    linked = next((path for root in ("/usr/share/man/man1", "/usr/share/postgresql", "/usr/bin")
                   for path in sorted(Path(root).rglob("*")) if path.is_symlink()
                   and str(Path(path.parent, path.readlink())).startswith(str(alternatives)) and path.exists()), None)
    if linked is None:
        pytest.skip("no file under /usr links through /etc/alternatives here")
    probe = subprocess.run(sandbox.confined(["/usr/bin/test", "-r", str(linked)], tmp_path, []),
                           capture_output=True, text=True, check=False, env=sandbox.MINIMAL_ENVIRONMENT)
    assert probe.returncode == 0, (linked, probe.stderr)
