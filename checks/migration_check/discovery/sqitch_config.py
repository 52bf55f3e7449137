"""Where sqitch finds a project's plan and scripts: `sqitch.conf`, read as sqitch reads it.

sqitch.conf is git-config syntax (leading white space means nothing, sections may carry a quoted
subsection: `[engine "pg"]`). Each setting is looked up as sqitch's Target.pm does: the target's
(`target.<name>.top_dir`, the target named by `engine.<engine>.target` or `core.target`), then the
engine's (`engine.<engine>.top_dir`), then `core.top_dir`. The plan is `plan_file`, else
`<top_dir>/sqitch.plan`; the scripts `deploy_dir`, `revert_dir`, `verify_dir`, else
`<top_dir>/deploy` and so on, with the `extension` (`sql` unless set). Relative paths are the
project's, where sqitch.conf is. `deploy.verify` says whether each verify script runs right after
its change's deploy, or only with the whole plan deployed (`sqitch verify`).
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

from migration_check.discovery.listing import per_discovery

CONF = "sqitch.conf"
PLAN = "sqitch.plan"
GIT_TRUE = frozenset({"true", "yes", "on", "1"})
QUOTE = '"'


@dataclass(frozen=True)
class SqitchPaths:
    top_dir: Path
    plan_file: Path
    deploy_dir: Path
    revert_dir: Path
    verify_dir: Path
    extension: str = "sql"
    engine: str = ""  # `core.engine` (pg, mysql, sqlite, ...); empty when not set
    # `deploy.verify`: sqitch runs each change's verify script right after its deploy. Unset, the
    # scripts run only when asked, `sqitch verify`, on the whole plan deployed.
    verify_each_deploy: bool = False
    # The psql variables sqitch sets for each kind of script (`--set name=value`).
    variables: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    def variables_of(self, kind: str) -> tuple[tuple[str, str], ...]:
        return dict(self.variables).get(kind, ())

    def script_dir(self, kind: str) -> Path:
        return {"deploy": self.deploy_dir, "revert": self.revert_dir, "verify": self.verify_dir}[kind]


@per_discovery
def sqitch_paths(directory: Path) -> SqitchPaths:
    """The plan and script directories sqitch would use when run in `directory`."""
    settings = _read(directory / CONF)
    engine = settings.get(("core", "engine"), "")
    target = settings.get((f'engine "{engine}"', "target")) or settings.get(("core", "target"), "")
    scopes = [f'target "{target}"', f'engine "{engine}"', "core"]

    def lookup(key: str) -> str | None:
        return next((settings[(scope, key)] for scope in scopes if settings.get((scope, key))), None)

    top = directory / (lookup("top_dir") or ".")
    plan = lookup("plan_file")
    dirs = {kind: lookup(f"{kind}_dir") for kind in ("deploy", "revert", "verify")}
    return SqitchPaths(
        top_dir=top,
        plan_file=directory / plan if plan else top / PLAN,
        **{f"{kind}_dir": directory / value if value else top / kind for kind, value in dirs.items()},
        extension=(lookup("extension") or "sql").lstrip("."),
        engine=engine,
        verify_each_deploy=settings.get(("deploy", "verify"), "").lower() in GIT_TRUE,
        variables=tuple((kind, tuple(sorted(_variables(settings, kind, engine, target).items())))
                        for kind in ("deploy", "revert", "verify")),
    )


def _variables(settings: dict[tuple[str, str], str], kind: str, engine: str, target: str) -> dict[str, str]:
    """The psql variables sqitch passes to a `kind` script, merged as its commands merge them:
    core.variables, deploy.variables, then revert's or verify's own, then the engine's and the
    target's; and `registry`, the schema of sqitch's own tables, last (its psql arguments)."""
    sections = ["core", "deploy", *([kind] if kind != "deploy" else []), f"engine.{engine}", f"target.{target}"]
    found: dict[str, str] = {}
    for section in sections:
        found.update({key: value for (written, key), value in settings.items()
                      if _section_name(written) == f"{section}.variables"})
    registry = next((settings[(scope, "registry")] for scope in (f'target "{target}"', f'engine "{engine}"', "core")
                     if settings.get((scope, "registry"))), "sqitch")
    return {**found, "registry": registry}


def _section_name(written: str) -> str:
    """`deploy "variables"` and `deploy.variables` are one section to git-config: deploy.variables."""
    name, _, subsection = written.partition('"')
    return f"{name.strip()}.{subsection.rstrip(QUOTE)}" if subsection else name.strip()


def _read(path: Path) -> dict[tuple[str, str], str]:
    """(section, key) -> value; section names as written (`engine "pg"`), keys in lower case. A
    file that cannot be read gives nothing: sqitch's defaults apply."""
    parser = configparser.ConfigParser(interpolation=None, strict=False, inline_comment_prefixes=("#", ";"))
    try:
        # git-config: indentation means nothing (configparser would read it as a continued value).
        parser.read_string("\n".join(line.lstrip() for line in path.read_text(encoding="utf-8").splitlines()))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return {}
    return {(section.strip(), key): value.strip().strip('"') for section in parser.sections()
            for key, value in parser.items(section)}

