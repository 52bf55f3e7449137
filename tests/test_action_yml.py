"""action.yml, the Dockerfile, the action's entry point, the README's action section and the CI
workflow agree with each other: an input added in one place and forgotten in another fails here."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from migration_check import action

REPO = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((REPO / "action.yml").read_text())
INPUTS: dict[str, dict] = ACTION["inputs"]
OUTPUTS: dict[str, dict] = ACTION["outputs"]
DOCKERFILE = (REPO / "Dockerfile").read_text()
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def readme_section() -> str:
    text = (REPO / "README.md").read_text()
    match = re.search(r"<!-- section: action \(github\) -->(.*?)<!-- end section: action -->", text, re.S)
    assert match, "README.md has no action section"
    return match[1]


def table_rows(section: str, heading: str) -> dict[str, str]:
    """`name` -> row text, from the Markdown table under `### heading`."""
    part = section.split(f"### {heading}", 1)[1].split("\n### ", 1)[0]
    return {m[1]: m[0] for m in re.finditer(r"^\| `([\w-]+)` \|.*$", part, re.M)}


def readme_workflows() -> list[dict]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", readme_section(), re.S)]


def action_steps(workflow: dict) -> list[dict]:
    """The steps that run this action, in a workflow or in one of its jobs."""
    jobs = workflow["jobs"].values() if "jobs" in workflow else [workflow]
    return [step for job in jobs for step in job["steps"]
            if str(step.get("uses", "")).startswith(("org/migration-check@", "./"))]


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_every_input_has_a_description_and_a_default(name: str) -> None:
    assert INPUTS[name].get("description", "").strip()
    assert "default" in INPUTS[name]
    assert INPUTS[name].get("required", False) is False


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_every_output_has_a_description(name: str) -> None:
    assert OUTPUTS[name].get("description", "").strip()


def test_inputs_and_outputs_are_the_documented_set() -> None:
    assert set(INPUTS) == {"path", "format", "config", "base-ref", "postgres-image", "database-url", "setup",
                           "junit-xml", "fail-on", "annotations", "drift-schema", "drift-url", "sarif", "report", "vars"}
    assert set(OUTPUTS) == {"junit-xml", "passed", "failed", "skipped", "result"}
    assert INPUTS["base-ref"]["default"] == "${{ github.base_ref }}"


def test_every_input_and_output_is_in_the_readme_tables() -> None:
    section = readme_section()
    inputs, outputs = table_rows(section, "Inputs"), table_rows(section, "Outputs")
    assert set(inputs) == set(INPUTS)
    assert set(outputs) == set(OUTPUTS)
    for name, spec in INPUTS.items():
        default = str(spec["default"])
        if default:
            assert f"`{default}`" in inputs[name], f"README's default for {name} is not {default}"


def test_readme_workflows_cover_the_four_setups_and_use_only_real_inputs() -> None:
    workflows = readme_workflows()
    used = [step.get("with", {}) for workflow in workflows for step in action_steps(workflow)]
    assert len(used) >= 4
    for inputs in used:
        assert set(inputs) <= set(INPUTS)
    assert any(inputs.get("setup") == "supabase" for inputs in used)
    assert any("matrix" in str(inputs.get("postgres-image", "")) for inputs in used)
    assert any("database-url" in inputs for inputs in used)
    assert any(job.get("services") for workflow in workflows for job in workflow["jobs"].values())
    checkouts = [step for workflow in workflows for job in workflow["jobs"].values() for step in job["steps"]
                 if str(step.get("uses", "")).startswith("actions/checkout")]
    assert checkouts and all(step.get("with", {}).get("fetch-depth") == 0 for step in checkouts)
    assert "branch protection" in readme_section()


def test_every_input_reaches_the_command_line() -> None:
    """Each input, set to a non-default value, changes the CLI arguments the entry point builds."""
    samples = {"path": "db", "format": "timestamp", "config": "c.yml", "base-ref": "main",
               "postgres-image": "postgres:16", "database-url": "postgresql://u@h/d", "setup": "supabase",
               "junit-xml": "out.xml", "fail-on": "warning", "annotations": "off", "drift-schema": "db/schema.sql",
               "drift-url": "postgresql://reader@replica/app", "sarif": "out.sarif", "report": "hygiene.md",
               "vars": "Namespace=auth\nlabels=a,b"}
    assert set(samples) == set(INPUTS)
    defaults = {f"INPUT_{name.upper()}": "" if "${{" in str(spec["default"]) else str(spec["default"])
                for name, spec in INPUTS.items()}
    baseline = action.argv_from_inputs(defaults)
    assert baseline == ["check", ".", "--junit-xml", "migration-check.xml", "--fail-on", "error"]
    for name, value in samples.items():
        assert action.argv_from_inputs({**defaults, f"INPUT_{name.upper()}": value}) != baseline, name
    given = action.argv_from_inputs({**defaults, "INPUT_VARS": samples["vars"]})
    assert given[-4:] == ["--var", "Namespace=auth", "--var", "labels=a,b"]


def test_the_action_runs_the_repository_dockerfile() -> None:
    # A prebuilt image of this version (the release workflow pushes it); CI runs the same action
    # built from the Dockerfile, through .github/actions/from-source.
    assert ACTION["runs"] == {"using": "docker", "image": f"docker://ghcr.io/org/migration-check:v{VERSION}"}
    local = yaml.safe_load((REPO / ".github" / "actions" / "from-source" / "action.yml").read_text())
    assert {**local, "runs": ACTION["runs"]} == ACTION
    assert local["runs"] == {"using": "docker", "image": "../../../Dockerfile"}
    release = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text())
    steps = release["jobs"]["image"]["steps"]
    assert any(str(step.get("uses", "")).startswith("docker/build-push-action") and step["with"]["context"] == "."
               for step in steps)
    assert ACTION["branding"]["icon"] and ACTION["branding"]["color"]


def test_the_dockerfile_builds_what_the_action_needs() -> None:
    # The runner builds with no build arguments: the default base must be a real public image.
    assert re.search(r"^ARG BASE_IMAGE=debian:bookworm-slim$", DOCKERFILE, re.M)
    assert re.search(r"^FROM \$\{BASE_IMAGE\}$", DOCKERFILE, re.M)
    assert "PYTHONUNBUFFERED=1" in DOCKERFILE
    assert "safe.directory '*'" in DOCKERFILE
    assert "postgresql-15" in DOCKERFILE and "git" in DOCKERFILE
    # Exec form, so that Python is PID 1 and gets SIGTERM; and the module it names exists.
    entrypoint = re.search(r"^ENTRYPOINT (\[.*\])$", DOCKERFILE, re.M)
    assert entrypoint
    command = yaml.safe_load(entrypoint[1])
    assert command[-2:] == ["-m", "migration_check.action"]
    assert callable(action.main)
    # The default junit path of action.py is the one action.yml documents.
    assert INPUTS["junit-xml"]["default"] == action.DEFAULT_JUNIT


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    ignore = (REPO / ".dockerignore").read_text().split()
    copied = re.findall(r"^COPY (\S+) ", DOCKERFILE, re.M)
    assert copied
    for source in copied:
        assert (REPO / source).exists()
        assert f"!{source}" in ignore or f"!{source}/" in ignore, f".dockerignore leaves out {source}"


def test_ci_runs_the_action_once_to_pass_and_once_to_fail() -> None:
    ci = yaml.safe_load((REPO / ".github" / "workflows" / "ci.yml").read_text())
    jobs = ci["jobs"]
    assert any("bash .ci/run" in str(step.get("run", "")) for step in jobs["tests"]["steps"])
    passing = action_steps(jobs["action-passes"])
    failing = action_steps(jobs["action-fails"])
    assert passing[0]["with"]["path"] == "tests/fixtures/action/passing"
    assert failing[0]["with"]["path"] == "tests/fixtures/action/failing"
    assert failing[0]["continue-on-error"] is True
    step_id = failing[0]["id"]
    asserted = f'steps.{step_id}.outcome }}}}" = failure'
    assert any(asserted in str(step.get("run", "")) for step in jobs["action-fails"]["steps"])
    assert any("junit" in str(step.get("uses", "")) for step in jobs["action-passes"]["steps"])
    assert "matrix" in jobs["action-matrix"]["strategy"]
    for path in ("tests/fixtures/action/passing", "tests/fixtures/action/failing"):
        assert (REPO / path / "migrations").is_dir()


def test_the_image_installs_every_dependency_pinned_by_hash() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {re.split(r"[<>=!~\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
              for requirement in project["dependencies"] + project["optional-dependencies"]["docker"]}
    lock = (REPO / "requirements.lock").read_text()
    pinned = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", lock, re.M))
    assert wanted <= {name.lower() for name in pinned}
    for name, version in pinned.items():  # every pin carries its hash
        assert re.search(rf"^{re.escape(name)}=={re.escape(version)} \\\n\s+--hash=sha256:[0-9a-f]{{64}}", lock, re.M), name
    assert "--require-hashes" in DOCKERFILE and "requirements.lock" in DOCKERFILE
    assert re.search(r"^ARG POSTGRESQL_VERSION=15\.\d+-\S+$", DOCKERFILE, re.M)
