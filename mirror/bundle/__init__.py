"""``mirror export`` / ``mirror import``: snapshots carried as one verified file."""
