"""Package names as the solver sees them: the root, and extras as virtual packages.

``a[x]`` stands for "``a`` with its extra ``x``": it depends on ``a`` at exactly its own
version plus the extra's requirements (PEP 508 extras; pubgrub-rs and uv model them so).
"""

from __future__ import annotations

__all__ = ["ROOT", "base_name", "split_extra", "virtual"]

#: The solver's root package: the user's requirements. Not a valid project name, so it can
#: never clash with one.
ROOT = "<root>"


def split_extra(package: str) -> tuple[str, str | None]:
    """``"a[x]"`` -> ``("a", "x")``; ``"a"`` -> ``("a", None)``."""
    if package.endswith("]") and "[" in package:
        base, _, extra = package[:-1].partition("[")
        return base, extra
    return package, None


def base_name(package: str) -> str:
    return split_extra(package)[0]


def virtual(name: str, extra: str) -> str:
    return f"{name}[{extra}]"
