"""Helpers for the tests that need a real Docker engine: make one available (or say why not), build
the action image once per session, and run it the way the GitHub Actions runner runs a container
action: inputs as INPUT_* variables, the workspace at /github/workspace as working directory, the
runner's files under /github/file_commands and /github/workflow, the Docker socket mounted."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "action"
BASE_IMAGE = os.environ.get("MIGRATION_CHECK_BASE_IMAGE", "migration-check-base:bookworm")
STANDIN_IMAGE = os.environ.get("MIGRATION_CHECK_STANDIN_IMAGE", "postgres:15-local")
ACTION_IMAGE = "migration-check-action:test"
PARENT_LABEL = "org.migration-check.parent"  # DockerProvider: who started a database container
# On the action containers this session runs: another session's containers are never touched.
TEST_LABEL = f"org.migration-check.test={secrets.token_hex(4)}"
SOCKET = "/var/run/docker.sock"
_started: list[str] = []  # ids of the action containers this session ran


def docker(*args: str, check: bool = True, timeout: float = 600, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout, **kwargs)


def engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return docker("info", check=False, timeout=30).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def ensure_engine() -> None:
    """A Docker engine and the cached base images, or pytest.skip with the reason."""
    if not engine_answers():
        # Installs and starts what it can; exits 0 without an engine when none can be had here.
        subprocess.run(["bash", str(REPO / ".ci" / "docker-setup.sh")], check=False, timeout=900)
        if not engine_answers():
            pytest.skip("no Docker engine here and none could be started (.ci/docker-setup.sh says why)")
    build = subprocess.run(["bash", str(REPO / ".ci" / "build-base-images.sh")], capture_output=True, text=True,
                           timeout=900)
    if build.returncode != 0:
        pytest.fail(f"the Docker engine runs but the base images cannot be built:\n{build.stderr[-3000:]}")


def image_id(image: str) -> str:
    return docker("image", "inspect", "-f", "{{.Id}}", image, check=False).stdout.strip()


def build_action_image() -> str:
    """The repository's Dockerfile, FROM the local base; the layer cache makes rebuilds cheap. The
    image it replaces is removed (unless a container still uses it), so no dangling images pile up."""
    previous = image_id(ACTION_IMAGE)
    docker("build", "--force-rm", "--network", "host", "--build-arg", f"BASE_IMAGE={BASE_IMAGE}",
           "-t", ACTION_IMAGE, str(REPO), timeout=900)
    if previous and previous != image_id(ACTION_IMAGE):
        docker("rmi", previous, check=False)
    return ACTION_IMAGE


def containers(label: str) -> list[str]:
    """Ids of the containers (running or not) with this label (`key` or `key=value`)."""
    return docker("ps", "-aq", "--filter", f"label={label}").stdout.split()


def databases_started_by(container_id: str) -> list[str]:
    return containers(f"{PARENT_LABEL}={container_id}")


def remove_containers(ids: list[str]) -> None:
    if ids:
        docker("rm", "-f", "-v", *ids, check=False)


def make_workspace(root: Path, fixture: str, extra: Mapping[str, str] | None = None) -> Path:
    """A checkout of a fixture repository: a copy with one commit, as actions/checkout leaves it."""
    workspace = root / "workspace"
    shutil.copytree(FIXTURES / fixture, workspace)
    for relative, text in (extra or {}).items():
        (workspace / relative).write_text(text)
    git(workspace, "init", "-q")
    commit_all(workspace, "fixture")
    return workspace


def git(workspace: Path, *args: str) -> None:
    identity = ["-c", "user.name=ci", "-c", "user.email=ci@example.com", "-c", "init.defaultBranch=main"]
    subprocess.run(["git", *identity, *args], cwd=workspace, check=True, capture_output=True)


def commit_all(workspace: Path, message: str) -> None:
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", message)


def action_defaults(event: Mapping[str, str]) -> dict[str, str]:
    """Every input with its default, as the runner passes them (expressions evaluated for `event`)."""
    inputs = yaml.safe_load((REPO / "action.yml").read_text())["inputs"]
    values = {}
    for name, spec in inputs.items():
        default = str(spec.get("default", ""))
        values[name] = event.get("base_ref", "") if default == "${{ github.base_ref }}" else default
    return values


def parse_outputs(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT as the runner parses it: name=value lines and name<<DELIMITER blocks."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            values[key] = "\n".join(iter(lambda: next(lines), delimiter))
        else:
            key, value = line.split("=", 1)
            values[key] = value
    return values


def runner_commands(stdout: str) -> list[str]:
    """The workflow commands the runner would act on: `::` lines outside stop-commands blocks."""
    commands: list[str] = []
    token: str | None = None
    for line in stdout.splitlines():
        if token is not None:
            if line == f"::{token}::":
                token = None
        elif line.startswith("::stop-commands::"):
            token = line.removeprefix("::stop-commands::")
        elif line.startswith("::"):
            commands.append(line)
    return commands


@dataclass
class ActionRun:
    name: str
    id: str
    workspace: Path
    files: Path
    process: subprocess.Popen[str] | None = None
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""

    @property
    def summary(self) -> str:
        return (self.files / "step_summary").read_text()

    @property
    def outputs(self) -> dict[str, str]:
        return parse_outputs((self.files / "set_output").read_text())

    @property
    def commands(self) -> list[str]:
        return runner_commands(self.stdout)

    def junit(self, relative: str = "migration-check.xml") -> Path:
        return self.workspace / relative

    def wait(self, timeout: float = 300) -> ActionRun:
        assert self.process is not None
        self.stdout, self.stderr = self.process.communicate(timeout=timeout)
        self.returncode = self.process.returncode
        return self


def start_action(tmp_path: Path, workspace: Path, inputs: Mapping[str, str] | None = None,
                 event: Mapping[str, str] | None = None, image: str = ACTION_IMAGE) -> ActionRun:
    """`docker run` of the action image as the runner does it (in the background: see ActionRun.wait)."""
    event = dict(event or {})
    files, workflow = tmp_path / "file_commands", tmp_path / "workflow"
    files.mkdir()
    workflow.mkdir()
    for name in ("step_summary", "set_output"):
        (files / name).touch()
    (workflow / "event.json").write_text(json.dumps({"pull_request": {"base": {"ref": event.get("base_ref", "")}}}))
    name = "migration-check-test-" + secrets.token_hex(4)
    env = {
        "GITHUB_ACTIONS": "true",
        "CI": "true",
        "GITHUB_WORKSPACE": "/github/workspace",
        "GITHUB_STEP_SUMMARY": "/github/file_commands/step_summary",
        "GITHUB_OUTPUT": "/github/file_commands/set_output",
        "GITHUB_EVENT_PATH": "/github/workflow/event.json",
        "GITHUB_EVENT_NAME": "pull_request" if event.get("base_ref") else "push",
        "RUNNER_TEMP": "/github/runner_temp",
    }
    for key, value in {**action_defaults(event), **(inputs or {})}.items():
        env["INPUT_" + key.upper()] = value  # hyphens kept, as the runner does
    command = ["docker", "run", "--name", name, "--label", TEST_LABEL, "--workdir", "/github/workspace",
               "-v", f"{SOCKET}:{SOCKET}", "-v", f"{workspace}:/github/workspace",
               "-v", f"{files}:/github/file_commands", "-v", f"{workflow}:/github/workflow"]
    for key, value in env.items():
        command += ["-e", f"{key}={value}"]
    process = subprocess.Popen([*command, image], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    inspect = lambda: docker("inspect", "-f", "{{.Id}}", name, check=False).stdout.strip()  # noqa: E731
    wait_for(lambda: inspect() or process.poll() is not None, 60, f"container {name} to exist")
    container_id = inspect()
    _started.append(container_id)
    return ActionRun(name=name, id=container_id, workspace=workspace, files=files, process=process)


def run_action(tmp_path: Path, workspace: Path, inputs: Mapping[str, str] | None = None,
               event: Mapping[str, str] | None = None, timeout: float = 300) -> ActionRun:
    run = start_action(tmp_path, workspace, inputs, event)
    try:
        return run.wait(timeout)
    finally:
        docker("rm", "-f", run.name, check=False)


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[None]:
    ensure_engine()
    yield
    # Whatever a failed test left: this session's action containers and the databases they started.
    for container_id in _started:
        remove_containers(databases_started_by(container_id))
    remove_containers(containers(TEST_LABEL))


@pytest.fixture(scope="session")
def action_image(docker_engine: None) -> str:
    return build_action_image()
