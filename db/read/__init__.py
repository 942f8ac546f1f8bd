"""Reading a snapshot for ``resolve`` and ``mirror serve``: stdlib ``sqlite3``, read-only."""
