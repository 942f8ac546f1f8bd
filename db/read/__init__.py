"""Reading a snapshot for ``resolve`` and ``mirror serve``: read-only, SQLite or PostgreSQL."""
