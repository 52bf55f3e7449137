"""sqitch: a plan file, `sqitch.plan`, and `deploy/`, `revert/`, `verify/` scripts per change.

    %syntax-version=1.0.0
    %project=flipr

    appschema 2024-01-01T10:00:00Z Marge <marge@example.com> # Add schema.
    users [appschema] 2024-01-02T10:00:00Z Marge <marge@example.com> # Users table.
    @v1.0 2024-01-03T10:00:00Z Marge <marge@example.com> # Tag v1.0.
    users [users@v1.0] 2024-02-01T10:00:00Z Marge <marge@example.com> # Rework users.

Rules, as sqitch applies them:
- Changes run in plan order, not in name order. Each change `x` has `deploy/x.sql` (its `up`),
  `revert/x.sql` (its `down`) and, optionally, `verify/x.sql`: run after each deploy when
  sqitch.conf sets `deploy.verify`, else as `sqitch verify` runs them, on the whole plan deployed.
- Dependencies in brackets must name changes earlier in the plan (`!x` is a conflict, not checked
  here). `project:x` names a change of another sqitch project, which sqitch deploys a change only
  after: that project (the repository's plan whose `%project` is its name, chef/chef-server's
  `baseline/`) is deployed first, whole and in its own plan order, as the project's setup.
- A tag line `@name` tags the change before it.
- A change named again after a tag is a rework: the latest version keeps `deploy/x.sql`, and the
  earlier one is `deploy/x@<tag>.sql`, named after the first tag that follows it. Its id here is
  `x@<tag>`.
- Scripts are run as psql runs them (sqitch uses psql): they usually hold their own
  `BEGIN; ... COMMIT;`, which the executor honours.
- A plan line sqitch would refuse, a missing deploy script, or an unknown dependency is a
  FileError at its plan line.
- A sqitch.conf in the directory says where the plan and the scripts are (`top_dir`, `plan_file`,
  `deploy_dir`, ..., `extension`: discovery/sqitch_config.py): a plan beside it that it does not
  name is not read. A plan it names that is not there, or an engine other than pg, is a FileError
  at its line of sqitch.conf.

A change's `version` is its name (`x`, or `x@tag` for an earlier version of a reworked change),
`name` is empty, and `sort_key` is its position in the plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from migration_check.discovery.base import (
    Detection,
    Discovery,
    Layout,
    counted,
    read_sql,
    setting_line,
    within_repository,
)
from migration_check.discovery.listing import IGNORED_NAMES
from migration_check.discovery.locate import searched_directories
from migration_check.discovery.sqitch_config import CONF, PLAN, SqitchPaths, sqitch_paths
from migration_check.errors import FileError
from migration_check.model import Migration, Refusal, RollbackPolicy, Script, StrayFile

NAME = r"[^\s@#:\[\]\\/!%+-][^\s@#:\[\]\\]*"
PLANNER = (
    r"(?P<timestamp>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)\s+(?P<planner>[^<]*?)\s*<(?P<email>[^>]*)>"
    r"\s*(?:#\s?(?P<note>.*))?$"
)
CHANGE = re.compile(rf"^\+?(?P<name>{NAME})\s+(?:\[(?P<deps>[^\]]*)\]\s+)?{PLANNER}")
TAG = re.compile(rf"^@(?P<name>{NAME})\s+{PLANNER}")
PRAGMA = re.compile(r"^%\s*(?P<key>[\w-]+)\s*=\s*(?P<value>.*)$")
DEPENDENCY = re.compile(rf"^(?P<conflict>!)?(?:(?P<project>{NAME}):)?(?P<name>{NAME})(?:@(?P<tag>{NAME}))?$")
SCRIPT_DIRS = ("deploy", "revert", "verify")


@dataclass
class PlannedChange:
    name: str
    line: int
    dependencies: list[str]
    tags: list[str] = field(default_factory=list)  # the tags right after it in the plan
    # Set when a later line reworks this change: the tags between this change and the rework,
    # newest first, then its own (sqitch's Plan.pm). Its scripts carry the first of them whose
    # deploy script exists: deploy/<name>@<tag>.sql.
    rework_tags: list[str] = field(default_factory=list)

    def script_name(self, deploy_dir: Path, extension: str = "sql") -> str:
        """The name of this change's scripts, as sqitch's Change.pm finds them."""
        if not self.rework_tags:
            return self.name
        candidates = [f"{self.name}@{tag}" for tag in self.rework_tags]
        return next((c for c in candidates if (deploy_dir / f"{c}.{extension}").is_file()), candidates[0])


class SqitchLayout(Layout):
    name = "sqitch"
    description = "sqitch.plan with deploy/, revert/, verify/ scripts"
    default_rollbacks = RollbackPolicy.REQUIRED
    conventional_dirs = ("sqitch", "db", "database", "db/sqitch")
    # Change names are sqitch's to validate (in the plan: they may hold `.` and `/`), and the plan
    # names the scripts, in the directories and with the extension sqitch.conf may choose: a script
    # the plan names is sqitch's, and one it does not is a stray file.
    naming_pattern = r"^.+$"
    naming_hint = "<change>.sql under deploy/, revert/ and verify/ (as sqitch.plan names them)"
    strict_naming_pattern = r"^(deploy|revert|verify)/[a-z][a-z0-9_-]*(@[\w.-]+)?\.sql$"
    strict_naming_hint = "<snake_case_change>.sql under deploy/, revert/ and verify/"

    identity = "id"  # the registry records changes by name
    declared_order = True

    def held_directories(self, directory: Path) -> list[Path]:
        paths = sqitch_paths(directory)
        return [paths.top_dir, paths.deploy_dir, paths.revert_dir, paths.verify_dir]

    def detect(self, directory: Path) -> Detection | None:
        paths = sqitch_paths(directory)
        if not paths.plan_file.is_file():
            if (directory / CONF).is_file() and (directory / PLAN).is_file():
                # sqitch.conf names another plan, which is not there: sqitch stops; discover says where
                return Detection(score=95, reason=f"{CONF} and {PLAN}")
            return None
        deploy = paths.deploy_dir
        # A change's name may hold slashes (BeeeOn's `beeeon.gateways/create`): its script is in a subdirectory.
        count = sum(1 for p in deploy.rglob(f"*.{paths.extension}")) if deploy.is_dir() else 0
        return Detection(score=95, reason=f"{paths.plan_file.name} and {counted(count, 'deploy script')}",
                         empty=count == 0 and not _plans_changes(paths.plan_file))

    def discover(self, directory: Path) -> Discovery:
        return self._discover(directory, frozenset())

    def _discover(self, directory: Path, seen: frozenset[Path]) -> Discovery:
        paths = sqitch_paths(directory)
        plan_path = paths.plan_file
        if paths.engine and paths.engine != "pg":
            raise FileError(directory / CONF, setting_line(directory / CONF, "engine"),
                            f"engine = {paths.engine}: these are changes for another database; migration-check replays"
                            " PostgreSQL migrations (engine = pg)")
        if not plan_path.is_file():
            raise FileError(directory / CONF, setting_line(directory / CONF, "plan_file"),
                            f"the plan file {_shown(plan_path, directory)} does not exist (sqitch stops here too)")
        changes = parse_plan(plan_path)
        used: set[Path] = set()
        migrations = []
        refusals = []
        for index, change in enumerate(changes):
            change_id = change.script_name(paths.deploy_dir, paths.extension)
            scripts = {kind: _script_path(paths, kind, change_id) for kind in SCRIPT_DIRS}
            found = {kind: path for kind, path in scripts.items() if path.is_file()}
            used.update(found.values())
            if "deploy" not in found:
                # sqitch deploys the changes before it and fails at it: the others are still judged.
                missing = f"{_shown(scripts['deploy'], directory)} does not exist"
                refusals.append(Refusal(plan_path, change.line, f"{missing} (sqitch deploy fails at this change)"))
                migrations.append(Migration(change_id, "", (index,), up=None, files=tuple(found.values()), refused=True,
                                            skip_reason=f"sqitch fails at it (line {change.line}): {missing}"))
                continue
            migrations.append(Migration(
                version=change_id,
                name="",
                sort_key=(index,),
                up=_script(found["deploy"], paths.variables_of("deploy")),
                down=_script(found["revert"], paths.variables_of("revert")) if "revert" in found else None,
                verify=_script(found["verify"], paths.variables_of("verify")) if "verify" in found else None,
                verify_at_end=not paths.verify_each_deploy,
                files=tuple(found[kind] for kind in SCRIPT_DIRS if kind in found),
            ))
        # sqitch runs only the scripts its plan names: a revert script of no change is as idle as
        # a deploy script of none (a change dropped from the plan leaves all three), so a stray.
        stray = []
        for kind in SCRIPT_DIRS:
            folder = paths.script_dir(kind)
            for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
                if path.is_file() and path not in used and not path.name.startswith(".") and path.name not in IGNORED_NAMES:
                    stray.append(StrayFile(path, f"{kind} script of no change in {plan_path.name}"))
        setup, setup_reason = self._other_projects_first(directory, plan_path, changes, seen | {directory.resolve()})
        return Discovery(migrations, stray, setup=setup, setup_reason=setup_reason, refusals=refusals)

    def _other_projects_first(self, directory: Path, plan_path: Path, changes: list[PlannedChange],
                              seen: frozenset[Path]) -> tuple[list[Script], str]:
        """The deploy scripts of the other sqitch projects whose changes this plan requires, each
        whole and in its plan order (with those it requires itself first), and what was done."""
        own = plan_project(plan_path)
        required: dict[str, list[str]] = {}
        for change in changes:
            for dependency in change.dependencies:
                match = DEPENDENCY.match(dependency)
                if match and match["project"] and match["project"] != own and not match["conflict"]:
                    required.setdefault(match["project"], []).append(f"{match['project']}:{match['name']}")
        if not required:
            return [], ""
        # The repository's plans (without a repository, those under this one's directory).
        plans = _plans_by_project(within_repository(directory)[-1])
        scripts: list[Script] = []
        said = []
        for project, dependencies in required.items():
            names = ", ".join(dict.fromkeys(dependencies))
            other = plans.get(project)
            if other is None:
                said.append(f"this plan requires {names} of sqitch project {project}, whose plan is not in the"
                            " repository: deploy it first with a setup script (--setup FILE)")
                continue
            if other in seen:
                continue
            found = self._discover(other, seen)
            scripts += found.setup + [m.up for m in found.migrations if m.up is not None]
            said.append(f"sqitch project {project} ({_shown(sqitch_paths(other).plan_file, directory)},"
                        f" {counted(len(found.migrations), 'change')}) deployed first: this plan requires {names}")
        return scripts, "; ".join(said)

    def new_files(self, directory: Path, name: str, now: datetime) -> dict[Path, str]:
        raise NotImplementedError("`migration-check new` does not edit sqitch.plan: use `sqitch add`")


def plan_project(plan: Path) -> str | None:
    """The plan's `%project` pragma."""
    for line in read_sql(plan).split("\n"):
        pragma = PRAGMA.match(line.strip())
        if pragma and pragma["key"] == "project":
            return pragma["value"].strip()
    return None


def _plans_by_project(root: Path) -> dict[str, Path]:
    """Each sqitch project of the repository by its `%project` name, with the directory of its
    sqitch.conf or plan (the shallowest, where two share a name)."""
    found: dict[str, Path] = {}
    for folder in [root, *searched_directories(root)]:
        if not ((folder / CONF).is_file() or (folder / PLAN).is_file()):
            continue
        plan = sqitch_paths(folder).plan_file
        try:
            project = plan_project(plan) if plan.is_file() else None
        except FileError:
            continue  # a plan that is not text names no project
        if project is not None:
            found.setdefault(project, folder.resolve())
    return found


def _plans_changes(plan: Path) -> bool:
    """Whether the plan has a line besides pragmas, comments and blank lines (cheap: no parsing)."""
    try:
        lines = plan.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return True
    return any(line.strip() and not line.lstrip().startswith(("%", "#")) for line in lines)


def _script_path(paths: SqitchPaths, kind: str, change_id: str) -> Path:
    return paths.script_dir(kind) / f"{change_id}.{paths.extension}"


def _shown(path: Path, directory: Path) -> str:
    return path.relative_to(directory).as_posix() if path.is_relative_to(directory) else str(path)


def _script(path: Path, variables: tuple[tuple[str, str], ...]) -> Script:
    return Script(path, read_sql(path), variables=variables)


def parse_plan(path: Path) -> list[PlannedChange]:
    """The changes of a sqitch plan, in order. Anything sqitch would refuse is a FileError."""
    changes: list[PlannedChange] = []
    names: dict[str, int] = {}  # name -> index of its latest occurrence
    tags: set[str] = set()
    for number, raw in enumerate(read_sql(path).split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("%"):
            if not PRAGMA.match(line):
                raise FileError(path, number, f"malformed pragma: {line}")
            continue
        if line.startswith("@"):
            tag = TAG.match(line)
            if not tag:
                raise FileError(path, number, f"malformed tag line: {line}")
            if not changes:
                raise FileError(path, number, f"tag @{tag['name']} before any change")
            if tag["name"] in tags:
                raise FileError(path, number, f"tag @{tag['name']} is already in the plan")
            tags.add(tag["name"])
            changes[-1].tags.append(tag["name"])
            continue
        if line.startswith("-"):
            raise FileError(path, number, f"revert lines (-change) are not supported: {line}")
        matched = CHANGE.match(line)
        if not matched:
            raise FileError(path, number,
                            f"malformed change line (expected: name [deps] timestamp planner <email> # note): {line}")
        name = matched["name"]
        dependencies = (matched["deps"] or "").split()
        _check_dependencies(path, number, dependencies, names, tags)
        if name in names:
            duped = changes[names[name]]
            between = [tag for later in reversed(changes[names[name] + 1 :]) for tag in later.tags]
            duped.rework_tags = between + duped.tags
            if not duped.rework_tags:
                raise FileError(path, number, f"change {name} is already in the plan: tag the plan before reworking it")
        names[name] = len(changes)
        changes.append(PlannedChange(name, number, dependencies))
    return changes


def _check_dependencies(path: Path, number: int, dependencies: list[str], names: dict[str, int], tags: set[str]) -> None:
    for dependency in dependencies:
        match = DEPENDENCY.match(dependency)
        if not match:
            raise FileError(path, number, f"malformed dependency {dependency!r}")
        if match["conflict"] or match["project"]:
            continue  # conflicts and other projects' changes are sqitch's to check at deploy time
        if match["name"] not in names:
            raise FileError(path, number, f"depends on {dependency}, which is not earlier in the plan")
        if match["tag"] and match["tag"] not in tags:
            raise FileError(path, number, f"depends on {dependency}: no tag @{match['tag']} earlier in the plan")
