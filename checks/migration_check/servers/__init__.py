"""Where the disposable PostgreSQL comes from: local binaries (default), a Docker image, or a URL."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from migration_check.errors import UsageError
from migration_check.servers.base import Database, Provider
from migration_check.settings import Settings

__all__ = ["Database", "Provider", "make_provider"]


def make_provider(settings: Settings, extensions: Mapping[str, int] | None = None,
                  preferred: frozenset[str] = frozenset(), repo_root: Path | None = None) -> Provider:
    """The provider the settings choose; the PostgreSQL the repository at `repo_root` runs, then
    `extensions` (the ones the migrations create, and how many scripts create each), then
    `preferred` (the ones a setup preset would create), steer the choice among local installations."""
    chosen = [flag for flag, value in (("--database-url", settings.database_url),
                                        ("--postgres-image", settings.postgres_image)) if value]
    if len(chosen) > 1:
        raise UsageError(f"{' and '.join(chosen)} exclude each other; give one")
    if settings.database_url:
        from migration_check.servers.url import UrlProvider

        return UrlProvider(settings.database_url)
    if settings.postgres_image:
        # Imported here: testcontainers is an optional dependency, needed only for this provider.
        from migration_check.servers.docker import DockerProvider

        return DockerProvider(settings.postgres_image, migration_role=settings.migration_role)
    from migration_check.servers.local import LocalProvider

    return LocalProvider(settings.pg_bindir, migration_role=settings.migration_role, extensions=extensions,
                         preferred_extensions=preferred, repo_root=repo_root)
