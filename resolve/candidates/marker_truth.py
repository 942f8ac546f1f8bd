"""Whether a Requires-Dist marker holds on the target, for any extra, from a few evaluations per
distinct marker text.

Resolving ``a[x]`` asks, of every requirement of ``a`` that has a marker, whether it holds with
``extra == "x"``: a project with a hundred extras (``apache-airflow[all]``) had each of its
markers evaluated a hundred times. A marker that compares ``extra`` only for equality with the
names it quotes (PEP 508's ``extra == "x"``, the form every build backend writes) has, for any
extra it does not name, the value it has for one such extra. So each marker text is evaluated
with no extra, with each name it quotes and with one it does not, once; a marker that uses
``extra`` any other way (``in``, an ordering) is evaluated once per extra asked, as before.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from packaging.markers import Marker
from packaging.utils import canonicalize_name

__all__ = ["MarkerTruth"]

_EXTRA = re.compile(r"\bextra\b")
# ``extra`` compared for equality with a quoted name, as packaging writes a marker back.
_EQUALITY = re.compile(r'\bextra (?:==|!=) "[^"]*"|"[^"]*" (?:==|!=) extra\b')

# A marker's value for the extras it names ("" for none), and for every other extra.
_Table = tuple[dict[str, bool], bool]


class MarkerTruth:
    """Markers evaluated on one target environment (marker name → value)."""

    __slots__ = ("_environment", "_per_extra", "_tables")

    def __init__(self, environment: Mapping[str, str]) -> None:
        self._environment = dict(environment)
        self._tables: dict[str, _Table | None] = {}
        self._per_extra: dict[tuple[str, str], bool] = {}

    def holds(self, marker: str | None, extra: str) -> bool:
        """Whether ``marker`` (its text as packaging writes it back) holds with ``extra``
        (canonical, PEP 685; "" for none)."""
        if marker is None:
            return True
        if marker in self._tables:
            table = self._tables[marker]
        else:
            table = self._tables[marker] = self._table(marker)
        if table is not None:
            named, otherwise = table
            return named.get(extra, otherwise)
        key = (marker, extra)
        found = self._per_extra.get(key)
        if found is None:
            found = self._per_extra[key] = self._evaluate(Marker(marker), extra)
        return found

    def _table(self, marker: str) -> _Table | None:
        if len(_EXTRA.findall(marker)) != len(_EQUALITY.findall(marker)):
            return None
        parsed = Marker(marker)
        names = {canonicalize_name(w) for w in marker.split('"')[1::2]} | {""}
        unnamed = max(names, key=len) + "x"  # longer than every name: none of them
        named = {name: self._evaluate(parsed, name) for name in names}
        return named, self._evaluate(parsed, unnamed)

    def _evaluate(self, marker: Marker, extra: str) -> bool:
        return marker.evaluate({**self._environment, "extra": extra})
