"""migration-check: prove before a merge that PostgreSQL migrations are safe."""

__version__ = "0.1.0"
