"""PEP 508 markers as sets of environments: and, or, not, emptiness, and text again.

A universal resolution asks questions ``packaging.markers.Marker.evaluate`` cannot answer:
"can both markers hold at once?" (do two requirements fork?), "does this marker cover the whole
environment?" (does a pin need a marker?). Over the few variables that matter the answer is
exact with a small representation: a marker is a union of *boxes*, a box constrains each
variable independently, the Python version as a union of half-open intervals of release
numbers (``python_version`` and ``python_full_version`` are one axis: ``python_version ==
'3.10'`` is ``3.10.0 <= python_full_version < 3.11.0``), and every string variable
(``sys_platform``, ``platform_system``, ``os_name``, ``platform_machine``,
``implementation_name``, ``platform_python_implementation``, ``extra``) as a finite set of
values or the complement of one.

An expression outside that language (``'linux' in sys_platform``, a pre-release
``python_full_version``, ``platform_release``) becomes an opaque boolean variable named by its
own text: exact about itself, blind to how it relates to the others. Variables are taken as
independent (``sys_platform == 'win32' and os_name == 'posix'`` is not known to be empty).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["FALSE", "PYTHON", "STRING_VARIABLES", "TRUE", "Expr", "Python", "Release", "Values"]

PYTHON = "python_full_version"
STRING_VARIABLES = (
    "sys_platform",
    "platform_system",
    "os_name",
    "platform_machine",
    "implementation_name",
    "platform_python_implementation",
    "extra",
)
_ORDER = {name: i for i, name in enumerate((PYTHON, *STRING_VARIABLES))}

Release = tuple[int, int, int]
#: Half-open intervals ``[low, high)``; None is unbounded. Sorted, disjoint, not touching.
Intervals = tuple[tuple[Release | None, Release | None], ...]


@dataclass(frozen=True, slots=True)
class Values:
    """A string variable's values: ``values`` itself, or everything but it (``negated``)."""

    values: frozenset[str]
    negated: bool

    def empty(self) -> bool:
        return not self.negated and not self.values

    def full(self) -> bool:
        return self.negated and not self.values

    def __and__(self, other: Values) -> Values:
        if not self.negated and not other.negated:
            return Values(self.values & other.values, False)
        if self.negated and other.negated:
            return Values(self.values | other.values, True)
        pos, neg = (self, other) if not self.negated else (other, self)
        return Values(pos.values - neg.values, False)

    def __invert__(self) -> Values:
        return Values(self.values, not self.negated)

    def __or__(self, other: Values) -> Values:
        return ~(~self & ~other)


@dataclass(frozen=True, slots=True)
class Python:
    """The Python version axis: a union of half-open intervals of release numbers."""

    intervals: Intervals

    @classmethod
    def between(cls, low: Release | None, high: Release | None) -> Python:
        """``low <= version < high`` (None: unbounded)."""
        return cls(_normalise([(low, high)]) if low is None or high is None or low < high else ())

    def empty(self) -> bool:
        return not self.intervals

    def full(self) -> bool:
        return self.intervals == ((None, None),)

    def __and__(self, other: Python) -> Python:
        found: list[tuple[Release | None, Release | None]] = []
        for low_a, high_a in self.intervals:
            for low_b, high_b in other.intervals:
                low = _max_low(low_a, low_b)
                high = _min_high(high_a, high_b)
                if low is None or high is None or low < high:
                    found.append((low, high))
        return Python(_normalise(found))

    def __invert__(self) -> Python:
        found: list[tuple[Release | None, Release | None]] = []
        start: Release | None = None
        first = True
        for low, high in self.intervals:
            if not (first and low is None):
                found.append((start, low))
            first = False
            start = high
            if high is None:
                return Python(tuple(found))
        found.append((start, None))
        return Python(tuple(found))

    def __or__(self, other: Python) -> Python:
        return Python(_normalise([*self.intervals, *other.intervals]))

    def lowest(self) -> Release | None:
        return self.intervals[0][0] if self.intervals else None


def _max_low(a: Release | None, b: Release | None) -> Release | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


def _min_high(a: Release | None, b: Release | None) -> Release | None:
    if a is None:
        return b
    return a if b is None else min(a, b)


def _normalise(intervals: Iterable[tuple[Release | None, Release | None]]) -> Intervals:
    ordered = sorted(intervals, key=lambda i: (-1, ()) if i[0] is None else (0, i[0]))
    merged: list[tuple[Release | None, Release | None]] = []
    for low, high in ordered:
        if high == (0, 0, 0):
            continue  # no version is below 0: the domain starts there
        if merged:
            last_low, last_high = merged[-1]
            if last_high is None:
                continue
            if low is None or low <= last_high:
                merged[-1] = (last_low, None if high is None else max(high, last_high))
                continue
        merged.append((low, high))
    return tuple(merged)


Constraint = Python | Values
#: One box: each constrained variable (sorted) with its constraint; others are free.
Box = tuple[tuple[str, Constraint], ...]


def _box_and(a: Box, b: Box) -> Box | None:
    found = dict(a)
    for name, constraint in b:
        held = found.get(name)
        merged = constraint if held is None else held & constraint  # type: ignore[operator]
        if merged.empty():
            return None
        found[name] = merged
    return _box(found)


def _box(constraints: dict[str, Constraint]) -> Box:
    kept = [(n, c) for n, c in constraints.items() if not c.full()]
    return tuple(sorted(kept, key=lambda item: (_ORDER.get(item[0], len(_ORDER)), item[0])))


def _box_within(a: Box, b: Box) -> bool:
    """Whether every environment of ``a`` is one of ``b``."""
    held = dict(a)
    for name, constraint in b:
        mine = held.get(name)
        if mine is None:
            return False
        if not (mine & ~constraint).empty():  # type: ignore[operator]
            return False
    return True


@dataclass(frozen=True, slots=True)
class Expr:
    """A marker as a union of boxes; ``Expr(())`` is false, ``Expr(((),))`` true."""

    boxes: tuple[Box, ...]

    def __and__(self, other: Expr) -> Expr:
        found = []
        for a in self.boxes:
            for b in other.boxes:
                box = _box_and(a, b)
                if box is not None:
                    found.append(box)
        return _union(found)

    def __or__(self, other: Expr) -> Expr:
        return _union([*self.boxes, *other.boxes])

    def __invert__(self) -> Expr:
        return _inverted(self)

    def is_empty(self) -> bool:
        return not self.boxes

    def is_true(self) -> bool:
        return (~self).is_empty()

    def disjoint(self, other: Expr) -> bool:
        return (self & other).is_empty()

    def within(self, other: Expr) -> bool:
        return (self & ~other).is_empty()

    def same(self, other: Expr) -> bool:
        return self.within(other) and other.within(self)

    def restrict(self, name: str, value: str) -> Expr:
        """The marker where ``name`` has ``value``: the variable substituted away."""
        found: list[Box] = []
        for box in self.boxes:
            held = dict(box)
            constraint = held.pop(name, None)
            if constraint is not None and (constraint & Values(frozenset([value]), False)).empty():  # type: ignore[operator]
                continue
            found.append(_box(held))
        return _union(found)

    def python(self) -> Python:
        """The Python versions some environment of the marker has."""
        found = Python(())
        for box in self.boxes:
            found = found | dict(box).get(PYTHON, Python(((None, None),)))  # type: ignore[operator]
        return found

    def point(self) -> dict[str, str]:
        """The values of one environment of the marker (its first box's lowest Python and
        first values; ``other`` for a variable kept from a set of values), for evaluating
        what is constant across the marker's environments; empty for an empty marker."""
        if not self.boxes:
            return {}
        found: dict[str, str] = {}
        for name, constraint in self.boxes[0]:
            if isinstance(constraint, Python):
                low = constraint.lowest() or (0, 0, 0)
                found[PYTHON] = _release_text(low)
                found["python_version"] = f"{low[0]}.{low[1]}"
            elif not name.startswith("<"):
                chosen = sorted(constraint.values)[0] if not constraint.negated else "other"
                found[name] = chosen
        return found

    def simplified(self, within: Expr = None) -> Expr:  # type: ignore[assignment]
        """An equivalent marker inside ``within`` (default: everywhere) with fewer terms: each
        box drops every constraint that ``within`` already implies."""
        context = TRUE if within is None else within
        current = self & context if within is not None else self
        target = current
        boxes = list(self.boxes if within is None else _union(self.boxes).boxes)
        for index in range(len(boxes)):
            # The rarer variables go first, so `sys_platform` is what stays of a platform
            # that several variables name alike.
            for name, constraint in reversed(boxes[index]):
                for wider in _widenings(constraint):
                    held = dict(boxes[index])
                    if wider is None:
                        del held[name]
                    else:
                        held[name] = wider
                    widened = _box(held)
                    trial = _union([*boxes[:index], widened, *boxes[index + 1 :]])
                    if (trial & context).same(target):
                        boxes[index] = widened
                        break
        return _union(boxes)

    def text(self) -> str:
        """PEP 508 text, deterministic; ``""`` for true."""
        if self.is_true():
            return ""
        if self.is_empty():
            return "python_full_version < '0'"
        parts = [_box_text(box) for box in self.boxes]
        return " or ".join(sorted(parts, key=_text_key))

    def __str__(self) -> str:
        return self.text()


TRUE = Expr(((),))
FALSE = Expr(())


# A resolution asks `within` of the same few markers (the lock's environments, each fork's)
# thousands of times, and the complement of a union is the costly step: computed once each.
@lru_cache(maxsize=4096)
def _inverted(expr: Expr) -> Expr:
    result = TRUE
    for box in expr.boxes:
        # Not (x and y) = (not x) or (not y), one variable at a time.
        result &= _union([((name, ~constraint),) for name, constraint in box])
        if result.is_empty():
            break
    return result


def _widenings(constraint: Constraint) -> list[Constraint | None]:
    """Wider constraints to try when simplifying, widest (none at all) first: a Python range
    loses its lower or its upper bound."""
    found: list[Constraint | None] = [None]
    if isinstance(constraint, Python) and constraint.intervals:
        intervals = list(constraint.intervals)
        low_open = [(None, intervals[0][1]), *intervals[1:]]
        high_open = [*intervals[:-1], (intervals[-1][0], None)]
        found += [Python(_normalise(low_open)), Python(_normalise(high_open))]
    return found


def _union(boxes: Iterable[Box]) -> Expr:
    """Boxes as one union: empty ones and those inside another dropped, boxes that differ in
    one variable merged, in a deterministic order."""
    found = sorted(set(boxes), key=repr)
    changed = True
    while changed:
        changed = False
        for i, a in enumerate(found):
            if any(j != i and _box_within(a, b) and (a != b or j < i) for j, b in enumerate(found)):
                del found[i]
                changed = True
                break
            for j in range(i + 1, len(found)):
                merged = _merge(a, found[j])
                if merged is not None:
                    found[i] = merged
                    del found[j]
                    changed = True
                    break
            if changed:
                break
    return Expr(tuple(sorted(found, key=repr)))


def _merge(a: Box, b: Box) -> Box | None:
    """``a or b`` as one box when they differ in at most one variable."""
    da, db = dict(a), dict(b)
    names = set(da) | set(db)
    differing = [n for n in names if da.get(n) != db.get(n)]
    if len(differing) != 1:
        return None
    name = differing[0]
    if name not in da or name not in db:
        found = dict(da)
        found.pop(name, None)
        return _box(found)
    found = dict(da)
    found[name] = da[name] | db[name]  # type: ignore[operator]
    return _box(found)


# -- text ----------------------------------------------------------------------------------


def _release_text(release: Release) -> str:
    return ".".join(map(str, release))


def _python_text(python: Python) -> list[str]:
    parts = []
    for low, high in python.intervals:
        minor = all(r is None or r[2] == 0 for r in (low, high))
        variable = "python_version" if minor else PYTHON

        def bound(release: Release, minor: bool = minor) -> str:
            return f"{release[0]}.{release[1]}" if minor else _release_text(release)

        if minor and low is not None and high is not None and high == (low[0], low[1] + 1, 0):
            parts.append(f"{variable} == '{bound(low)}'")
            continue
        terms = []
        if low is not None:
            terms.append(f"{variable} >= '{bound(low)}'")
        if high is not None:
            terms.append(f"{variable} < '{bound(high)}'")
        parts.append(" and ".join(terms))
    return parts


def _values_text(name: str, values: Values) -> list[str]:
    op, join = ("!=", " and ") if values.negated else ("==", " or ")
    if name.startswith("<"):  # an opaque expression, named by its text
        text = name[1:-1]
        return [f"not ({text})" if values.negated else text]
    return [join.join(f"{name} {op} '{v}'" for v in sorted(values.values))]


def _box_text(box: Box) -> str:
    # PEP 508: `and` binds tighter than `or`, so only an `or` inside a box needs parentheses.
    terms: list[str] = []
    for name, constraint in box:
        if isinstance(constraint, Python):
            parts = _python_text(constraint)
        else:
            parts = _values_text(name, constraint)
            if not constraint.negated and len(constraint.values) > 1:
                parts = [parts[0]] * 2  # several values: an `or`
        text = " or ".join(dict.fromkeys(parts))
        several = len(parts) > 1
        terms.append(f"({text})" if several and len(box) > 1 else text)
    return " and ".join(terms)


def _text_key(text: str) -> tuple[str, str]:
    return (text.lstrip("("), text)
