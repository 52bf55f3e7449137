"""The database a Spring Boot project points its migration runner at: its default application file's
JDBC URL for the runner (`spring.flyway.url`, `spring.liquibase.url`), else the application's own
(`spring.datasource.url`). A project that runs its migrations on MySQL (13tom13/userservice's Flyway
scripts, `auto_increment` in each) failed every one of them here; its runner accepts them all.
"""

from __future__ import annotations

from pathlib import Path

from migration_check.discovery.flyway_config import CONFIG_LEVELS, application_entries

# JDBC URLs of the databases a Spring Boot project runs its migrations on in production, other than
# PostgreSQL's (an in-memory H2 or HSQLDB is a development default beside a PostgreSQL profile).
JDBC_VENDORS = {"mysql": "MySQL", "mariadb": "MariaDB", "oracle": "Oracle", "sqlserver": "SQL Server", "db2": "Db2"}


def spring_database(directory: Path, runner_key: str) -> tuple[Path, int, str] | None:
    """(file, line, database) where the project's default application file points the runner at a
    database other than PostgreSQL (`runner_key`, else `spring.datasource.url`), or None."""
    for folder in [directory, *directory.parents][:CONFIG_LEVELS]:
        entries = application_entries(folder)
        url = entries.get(runner_key) or entries.get("spring.datasource.url")
        if not url:
            continue
        vendor = url.removeprefix("jdbc:").split(":", 1)[0].lower() if url.startswith("jdbc:") else ""
        if vendor not in JDBC_VENDORS:
            return None
        for path in sorted(folder.glob("application*")):
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            number = next((n for n, line in enumerate(lines, start=1) if url.split("?")[0] in line), None)
            if number is not None:
                return path, number, JDBC_VENDORS[vendor]
        return None
    return None
