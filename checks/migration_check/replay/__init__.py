"""Apply every migration in order on a disposable database, and prove each rollback a true inverse."""
