"""The `resolve` command (not built yet)."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    print("error: `resolve` is not built yet\n\nhint: use `mirror sync` for now", file=sys.stderr)
    sys.exit(2)
