"""``mirror sync``: which pages and metadata to fetch, the closure, and the run itself."""
