"""Settings from the command line over the config file (`.migration-check.yml` or pyproject.toml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from migration_check.settings import Settings


def resolve_settings(cli_values: dict[str, Any]) -> Settings:
    """`cli_values` holds only the flags the user gave; they override the config file."""
    settings = Settings()
    for key, value in cli_values.items():
        setattr(settings, key, value)
    settings.path = Path(settings.path)
    return settings
