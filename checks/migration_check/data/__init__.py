"""What a migration does to rows: whether references and constraints still hold after a rollback."""
