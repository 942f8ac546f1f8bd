"""The target environment: Python version and platform as markers and wheel tags."""
