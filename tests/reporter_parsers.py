"""The JUnit parsers of the two JavaScript reporters (mikepenz/action-junit-report and
dorny/test-reporter's `phpunit-junit`), vendored unchanged under tests/reporters/, bundled with
esbuild and run under Node.js on a JUnit file: what each would put on the pull request.

`.ci/run` installs their npm dependencies into .ci/node; elsewhere, point
MIGRATION_CHECK_NODE_MODULES at a node_modules holding them (see tests/reporters/README.md)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

REPORTERS = Path(__file__).resolve().parent / "reporters"
REPO = REPORTERS.parent.parent
PACKAGES = ("esbuild", "xml-js", "xml2js", "glob", "@actions/core")


def readme_title_template() -> str:
    """mikepenz's check_title_template as the README's workflow sets it."""
    match = re.search(r"check_title_template: '([^']*)'", (REPO / "README.md").read_text())
    assert match, "the README's workflow sets no check_title_template for mikepenz/action-junit-report"
    return match.group(1)


def node_modules() -> Path | None:
    candidates = [Path(os.environ["MIGRATION_CHECK_NODE_MODULES"])] if os.environ.get("MIGRATION_CHECK_NODE_MODULES") else []
    candidates.append(REPO / ".ci" / "node" / "node_modules")
    for candidate in candidates:
        if all((candidate / package / "package.json").is_file() for package in PACKAGES):
            return candidate
    return None


def skip_reason() -> str | None:
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if node_modules() is None:
        return "the reporters' npm packages are not installed (see tests/reporters/README.md)"
    return None


@cache
def bundle() -> str:
    """The driver and the reporters' sources as one script (the text, to write where it may run)."""
    modules = node_modules()
    assert modules is not None
    result = subprocess.run(
        [str(modules / ".bin" / "esbuild"), str(REPORTERS / "parse_junit.ts"), "--bundle", "--platform=node",
         "--format=cjs", "--target=node20", "--log-level=error"],
        capture_output=True, text=True, env={**os.environ, "NODE_PATH": str(modules)}, check=False)
    if result.returncode != 0:
        pytest.fail(f"esbuild could not bundle the reporters' parsers:\n{result.stderr}")
    return result.stdout


def parse_with_reporters(junit: Path, workspace: Path, as_uid: int | None = None) -> dict[str, dict[str, object]]:
    """{"mikepenz": ..., "dorny": ...}, each {total, failed, skipped, passed, annotations: [{path, line, title}]}.
    With `as_uid`, Node runs as that user (a runner's later steps run as uid 1001, not root)."""
    script, out = junit.parent / "parse_junit.cjs", junit.parent / "reporters.json"
    script.write_text(bundle())
    script.chmod(0o644)
    out.touch(mode=0o666)
    out.chmod(0o666)
    command = ["node", str(script), str(junit), str(workspace), str(out), readme_title_template()]
    if as_uid is not None:
        command = ["setpriv", f"--reuid={as_uid}", f"--regid={as_uid}", "--clear-groups", *command]
    result = subprocess.run(command, capture_output=True, text=True, check=False,
                            env={**os.environ, "HOME": str(junit.parent)})
    script.unlink()
    if result.returncode != 0:
        pytest.fail(f"the reporters' parsers failed:\n{result.stderr}\n{result.stdout}")
    parsed: dict[str, dict[str, object]] = json.loads(out.read_text())
    out.unlink()
    return parsed
