"""Every round-trip fixture once more through the whole tool: each is made into a one-migration
project, and `migration-check check` must fail it (naming the object) or pass it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from migration_check.cli import main
from migration_check.servers.base import Database

ROUNDTRIP = Path(__file__).parent / "fixtures" / "roundtrip"
FORGOTTEN = sorted((ROUNDTRIP / "forgotten").glob("*.yml"))
CLEAN = sorted((ROUNDTRIP / "clean").glob("*.yml"))


ATTRIBUTION = re.compile(r"(?:created|dropped) by the up \(line \d+\) and | — (?:created|created again|changed|replaced) by the"
                         r" (?:up|rollback) \(line \d+\)(?: and not restored by rollback)?(?:; PostgreSQL cannot drop[^;]*\))?")


def project_from(fixture: Path, root: Path) -> list[str]:
    spec = yaml.safe_load(fixture.read_text())
    migrations = root / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "20250101000000_fixture.sql").write_text(spec["up"])
    (migrations / "20250101000000_fixture_rollback.sql").write_text(spec["down"])
    extra: list[str] = []
    if spec.get("setup"):
        (root / "setup.sql").write_text(spec["setup"])
        extra = ["--setup", str(root / "setup.sql")]
    return extra


def run(pg_server: Database, fixture: Path, tmp_path: Path) -> tuple[int, ET.Element]:
    extra = project_from(fixture, tmp_path / "project")
    report = tmp_path / "report.xml"
    code = main(["check", str(tmp_path / "project" / "migrations"), "--database-url", pg_server.conninfo,
                 "--junit-xml", str(report), "--quiet", *extra])
    return code, ET.parse(report).getroot()


def test_there_are_fixtures() -> None:
    assert len(FORGOTTEN) >= 20 and CLEAN


@pytest.mark.parametrize("fixture", FORGOTTEN, ids=lambda p: p.stem)
def test_forgotten_object_fails_the_roundtrip_case_by_name(pg_server: Database, fixture: Path, tmp_path: Path) -> None:
    code, root = run(pg_server, fixture, tmp_path)
    assert code == 1
    [case] = [c for c in root.iter("testcase") if c.attrib["classname"] == "migration_check.roundtrip"]
    failure = case.find("failure")
    assert failure is not None, ET.tostring(root, encoding="unicode")
    # The case points at the statement responsible (found by parsing), else at the rollback.
    assert case.attrib["file"].endswith(("20250101000000_fixture_rollback.sql", "20250101000000_fixture.sql"))
    assert int(case.attrib["line"]) >= 1
    # The CLI says who did it ("created by the up (line 1) and left behind by rollback"); the
    # fixtures state the neutral wording of the snapshot API, so compare without the attribution.
    text = ATTRIBUTION.sub("", failure.text or "")
    for expected in yaml.safe_load(fixture.read_text())["expect"]:
        assert expected in text


@pytest.mark.parametrize("fixture", CLEAN, ids=lambda p: p.stem)
def test_clean_fixture_passes(pg_server: Database, fixture: Path, tmp_path: Path) -> None:
    code, root = run(pg_server, fixture, tmp_path)
    # The schema's round trip is clean; what the fixture does to rows and locks is the data, lint
    # and locks families' business (a re-added column loses its values, by design).
    schema = {f"migration_check.{family}" for family in ("apply", "rollback", "roundtrip", "reapply", "integrity")}
    failures = [ET.tostring(c, encoding="unicode") for c in root.iter("testcase")
                if c.find("failure") is not None and c.attrib["classname"] in schema]
    assert failures == []


def test_a_view_made_again_with_a_star_says_which_columns_the_star_now_takes_in(pg_server: Database,
                                                                              tmp_path: Path) -> None:
    code, root = run(pg_server, ROUNDTRIP / "forgotten" / "view_star_expanded.yml", tmp_path)
    [case] = [c for c in root.iter("testcase") if c.attrib["classname"] == "migration_check.roundtrip"]
    assert code == 1 and case.find("failure").attrib["message"].startswith(  # type: ignore[union-attr]
        "rollback is not the inverse of up: view public.people_named: definition differs — created again by the"
        " rollback (line 1) (with `*`, which PostgreSQL expands when a view is made: it now also lists email, added"
        " since it was first made; name the columns it had instead of `*`)")


@pytest.mark.parametrize(("fixture", "expected"), [
    ("index_dropped_with_column", "index public.billing_profiles_namespace_key: dropped by the up (line 2) and not"
                                  " restored by rollback (it went with column key of billing_profiles, which it uses:"
                                  " DROP COLUMN drops the indexes and constraints on a column; make it again in the"
                                  " rollback once the column is back)"),
    ("dropped_if_exists_never_there", "column public.api_keys.mcp_slug: created by the rollback (line 1) (the up's drop"
                                      " of it, line 1, found none: it was not there before the up)"),
    ("view_dropped_by_cascade", "view public.legacy_accounts: dropped by the up (line 1) and not restored by rollback"
                                " (it went with column legacy_code of accounts: CASCADE drops the views that use it;"
                                " make the view again in the rollback)"),
    ("trigger_dropped_by_function_cascade", "trigger count_versions on public.versions: dropped by the rollback (line 1)"
                                            " (it went with function count_versions, which it calls: DROP FUNCTION ..."
                                            " CASCADE drops the triggers that call the function)"),
])
def test_what_the_up_did_not_name_or_did_not_find_is_said(pg_server: Database, tmp_path: Path,
                                                         fixture: str, expected: str) -> None:
    # The up never names the object (PostgreSQL drops it with the column it uses), or drops what
    # was never there.
    code, root = run(pg_server, ROUNDTRIP / "forgotten" / f"{fixture}.yml", tmp_path)
    [case] = [c for c in root.iter("testcase") if c.attrib["classname"] == "migration_check.roundtrip"]
    assert code == 1 and expected in case.find("failure").attrib["message"]  # type: ignore[union-attr]


def test_a_replaced_function_says_the_up_replaced_it(pg_server: Database, tmp_path: Path) -> None:
    # It was there before the up and after the rollback: the up's CREATE OR REPLACE replaced it.
    code, root = run(pg_server, ROUNDTRIP / "forgotten" / "function_body.yml", tmp_path)
    [case] = [c for c in root.iter("testcase") if c.attrib["classname"] == "migration_check.roundtrip"]
    assert code == 1
    assert "body differs — replaced by the up (line 1) and not restored by rollback" in case.find("failure").attrib["message"]


def test_an_added_enum_label_says_how_a_rollback_removes_one(pg_server: Database, tmp_path: Path) -> None:
    code, root = run(pg_server, ROUNDTRIP / "forgotten" / "enum_label.yml", tmp_path)
    [case] = [c for c in root.iter("testcase") if c.attrib["classname"] == "migration_check.roundtrip"]
    assert code == 1
    assert "PostgreSQL cannot drop an enum label: the rollback rebuilds the type" in case.find("failure").attrib["message"]
