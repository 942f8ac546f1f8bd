"""Index-precedence rules as a pure value, its edits, and its file formats (own TOML, uv, pip)."""
