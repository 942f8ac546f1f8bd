"""``mirror serve``: a snapshot as a read-only Simple Repository API for pip and uv."""
