"""Testing support: the pytest plugin (plugin.py, registered as a `pytest11` entry point) and the
`migration_db` fixture's object (database.py)."""
