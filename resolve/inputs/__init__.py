"""Requirement inputs: strings, pip requirement files and pyproject.toml, with errors that
point at the token."""
