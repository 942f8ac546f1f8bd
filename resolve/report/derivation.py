"""Derivation tree -> numbered sentences, the way pub, pubgrub-rs and uv report failures.

    Because a==1.0 depends on b>=2 and no versions of b match >=2, a==1.0 cannot be used.
    And because you require a, we can conclude that your requirements are unsatisfiable.

The walk is pub's (``failure.dart``): a derived incompatibility is explained from its two
causes; one used by several derivations is written once, numbered ``(1)``, and referred to
by number afterwards. Version sets become specifiers read off the candidate list
(``a>=1.0,<2.0``, ``a==1.0``, ``all versions of a``). The caller's ``hints`` follow the
report as ``hint:`` lines, kept apart from it as uv does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence

from resolve.solver.incompatibility import (
    Dependency,
    Derived,
    Incompatibility,
    NoSolution,
    NoVersions,
    Root,
    Term,
    Unavailable,
)
from resolve.solver.versionset import VersionSet

__all__ = ["Display", "describe", "render", "sentences"]

#: How to show a package name (e.g. ``a[x]`` for a virtual extra package).
Display = Callable[[str], str]

_UNSATISFIABLE = "your requirements are unsatisfiable"


def describe(versions: VersionSet) -> str:
    """A readable specifier for a set, derived from its runs over the candidate list.

    ``""`` means every candidate. A run that starts at the first candidate has no lower
    bound, one that ends at the last has no upper bound; a single candidate is ``==v``.
    """
    vs = versions.universe.versions
    n = len(vs)
    runs = list(versions.runs())
    if not runs:
        return " (no versions)"
    if runs == [(0, n)] and n > 1:
        return ""
    if len(runs) == 2 and runs[0][0] == 0 and runs[1][1] == n and runs[1][0] - runs[0][1] == 1:
        return f"!={vs[runs[0][1]]}"
    parts = []
    for lo, hi in runs:
        if hi - lo == 1:
            parts.append(f"=={vs[lo]}")
        elif lo == 0:
            parts.append(f"<{vs[hi]}")
        elif hi == n:
            parts.append(f">={vs[lo]}")
        else:
            parts.append(f">={vs[lo]},<{vs[hi]}")
    return " | ".join(parts)


class _Sentences:
    """Incompatibilities as phrases, with the root spoken of as "you"."""

    def __init__(self, root: str, display: Display) -> None:
        self.root = root
        self.display = display

    def term(self, term: Term) -> str:
        return f"{self.display(term.package)}{describe(term.versions)}"

    def subject(self, term: Term) -> tuple[str, bool]:
        """A positive term as a sentence subject, and whether it is plural."""
        if term.versions.is_full and len(term.versions.universe) > 1:
            return f"all versions of {self.display(term.package)}", True
        return self.term(term), False

    def depends(self, subjects: list[Term], objects: str) -> str:
        """ "a==1.0 depends on …", "you require …", "if a and b then …"."""
        if len(subjects) > 1:
            return f"if {' and '.join(self.term(t) for t in subjects)} then {objects}"
        if not subjects or subjects[0].package == self.root:
            return f"you require {objects}"
        subject, plural = self.subject(subjects[0])
        return f"{subject} {'depend' if plural else 'depends'} on {objects}"

    def positives(self, incompatibility: Incompatibility) -> list[Term]:
        """Positive terms; the root's only when no other is positive (it always holds)."""
        found = [t for t in incompatibility.terms if t.positive]
        return [t for t in found if t.package != self.root] or found

    def negatives(self, incompatibility: Incompatibility) -> list[str]:
        """Negative terms as what is required; a dependency keeps its own specifier text."""
        cause = incompatibility.cause
        found = []
        for term in incompatibility.terms:
            if term.positive:
                continue
            if isinstance(cause, Dependency) and cause.requirement is not None:
                wanted = f"{self.display(term.package)}{cause.requirement.strip()}"
                found.append(f"{wanted} ({cause.note})" if cause.note else wanted)
            else:
                found.append(self.term(term))
        return found

    def text(self, incompatibility: Incompatibility) -> str:
        cause = incompatibility.cause
        terms = incompatibility.terms
        if isinstance(cause, Dependency) and len(terms) == 1:
            # The requirement matched no candidate, so its term was dropped.
            name = self.display(cause.dependency)
            wanted = f"{name}{(cause.requirement or '').strip()}"
            if cause.note:  # there are versions; the policy kept them out (SEMANTICS §3)
                which = f"matches no versions the policy allows ({cause.note})"
            else:
                which = "matches no versions" if cause.requirement else "has no versions"
            return f"{self.depends(list(terms), wanted)} which {which}"
        if isinstance(cause, NoVersions):
            term = terms[0]
            name = self.display(term.package)
            if not term.versions.universe:
                return f"there are no versions of {name}"
            if term.versions.is_full:
                return f"none of the versions of {name} can be chosen"
            return f"no versions of {name} match {describe(term.versions)}"
        if isinstance(cause, Unavailable):
            subject, plural = self.subject(terms[0])
            return f"{subject} {'are' if plural else 'is'} unavailable ({cause.reason})"
        if isinstance(cause, Root):
            return f"you require {self.display(self.root)}"
        positive = self.positives(incompatibility)
        negative = self.negatives(incompatibility)
        if not positive and not negative:
            return _UNSATISFIABLE
        if negative:
            return self.depends(positive, " or ".join(negative))
        if len(positive) == 1:
            if positive[0].package == self.root:
                return _UNSATISFIABLE
            return f"{self.subject(positive[0])[0]} cannot be used"
        shown = [self.term(t) for t in positive]
        return f"{', '.join(shown[:-1])} and {shown[-1]} are incompatible"

    def both(
        self, a: Incompatibility, b: Incompatibility, line_a: int | None, line_b: int | None
    ) -> str:
        """Two incompatibilities joined by "and", merged into one phrase when they chain.

        pub's ``andToString``: "x depends on both y and z", "x depends on y which depends
        on z", otherwise "A (1) and B (2)".
        """
        return (
            self._requires_both(a, b, line_a, line_b)
            or self._requires_through(a, b, line_a, line_b)
            or self._requires_through(b, a, line_b, line_a)
            or f"{self.text(a)}{_ref(line_a)} and {self.text(b)}{_ref(line_b)}"
        )

    def _requires_both(
        self, a: Incompatibility, b: Incompatibility, line_a: int | None, line_b: int | None
    ) -> str | None:
        if len(a.terms) == 1 or len(b.terms) == 1:
            return None
        pa, pb = self.positives(a), self.positives(b)
        if len(pa) != 1 or len(pb) != 1 or pa[0] != pb[0]:
            return None
        na, nb = " or ".join(self.negatives(a)), " or ".join(self.negatives(b))
        if not na or not nb:
            return None
        return self.depends(pa, f"both {na}{_ref(line_a)} and {nb}{_ref(line_b)}")

    def _requires_through(
        self,
        prior: Incompatibility,
        latter: Incompatibility,
        line_p: int | None,
        line_l: int | None,
    ) -> str | None:
        if len(prior.terms) == 1 or len(latter.terms) == 1:
            return None
        needed = [t for t in prior.terms if not t.positive]
        then = self.positives(latter)
        if len(needed) != 1 or len(then) != 1 or needed[0].package != then[0].package:
            return None
        # "prior needs q in R" chains into "q in S needs …" only when R is within S.
        if needed[0].versions.mask & ~then[0].versions.mask:
            return None
        further = " or ".join(self.negatives(latter))
        if not further:
            return None
        first = self.depends(self.positives(prior), self.negatives(prior)[0])
        return f"{first}{_ref(line_p)} which depends on {further}{_ref(line_l)}"


def _ref(line: int | None) -> str:
    return "" if line is None else f" ({line})"


class _Report:
    """pub's ``_Writer``: walks the tree, numbering shared derivations."""

    def __init__(self, top: Incompatibility, sentences: _Sentences) -> None:
        self.top = top
        self.say = sentences
        self.lines: list[tuple[str, int | None]] = []
        self.numbers: dict[Incompatibility, int] = {}
        self.uses: dict[Incompatibility, int] = {}
        self._count(top)

    def _count(self, top: Incompatibility) -> None:
        stack = [top]
        while stack:
            node = stack.pop()
            seen = node in self.uses
            self.uses[node] = self.uses.get(node, 0) + 1
            if not seen and isinstance(node.cause, Derived):
                stack += (node.cause.conflict, node.cause.other)

    def _conclusion(self, node: Incompatibility) -> str:
        text = self.say.text(node)
        return f"we can conclude that {text}" if node is self.top else text

    def _ref(self, node: Incompatibility) -> str:
        return f"{self.say.text(node)}{_ref(self.numbers.get(node))}"

    def _write(self, node: Incompatibility, message: str, numbered: bool) -> None:
        if numbered:
            self.numbers[node] = len(self.numbers) + 1
            self.lines.append((message, self.numbers[node]))
        else:
            self.lines.append((message, None))

    def _collapsible(self, node: Incompatibility) -> bool:
        cause = node.cause
        if self.uses[node] > 1 or not isinstance(cause, Derived):
            return False
        conflict, other = cause.conflict, cause.other
        if conflict.derived == other.derived:
            return False
        inner = conflict if conflict.derived else other
        return inner not in self.numbers

    def visit(self, node: Incompatibility, conclusion: bool = False) -> None:
        numbered = conclusion or self.uses[node] > 1
        assert isinstance(node.cause, Derived)
        cause, other = node.cause.conflict, node.cause.other
        said = self._conclusion(node)
        if cause.derived and other.derived:
            line1, line2 = self.numbers.get(cause), self.numbers.get(other)
            if line1 is not None and line2 is not None:
                both = self.say.both(cause, other, line1, line2)
                self._write(node, f"Because {both}, {said}.", numbered)
            elif line1 is not None or line2 is not None:
                with_line, without = (cause, other) if line1 is not None else (other, cause)
                self.visit(without)
                self._write(node, f"And because {self._ref(with_line)}, {said}.", numbered)
            elif self._single_line(cause) or self._single_line(other):
                first, second = (cause, other) if self._single_line(other) else (other, cause)
                self.visit(first)
                self.visit(second)
                self._write(node, f"Thus, {said}.", numbered)
            else:
                self.visit(cause, conclusion=True)
                self.lines.append(("", None))
                self.visit(other)
                self._write(node, f"And because {self._ref(cause)}, {said}.", numbered)
        elif cause.derived or other.derived:
            derived, external = (cause, other) if cause.derived else (other, cause)
            if derived in self.numbers:
                both = self.say.both(external, derived, None, self.numbers[derived])
                self._write(node, f"Because {both}, {said}.", numbered)
            elif self._collapsible(derived):
                assert isinstance(derived.cause, Derived)
                inner = derived.cause.conflict, derived.cause.other
                deeper, outer = inner if inner[0].derived else inner[::-1]
                self.visit(deeper)
                both = self.say.both(outer, external, None, None)
                self._write(node, f"And because {both}, {said}.", numbered)
            else:
                self.visit(derived)
                self._write(node, f"And because {self.say.text(external)}, {said}.", numbered)
        else:
            both = self.say.both(cause, other, None, None)
            self._write(node, f"Because {both}, {said}.", numbered)

    @staticmethod
    def _single_line(node: Incompatibility) -> bool:
        cause = node.cause
        assert isinstance(cause, Derived)
        return not cause.conflict.derived and not cause.other.derived

    def render(self) -> list[str]:
        top = self.top
        if top.derived:
            self.visit(top)
        else:
            # An external fact alone rules the root out (e.g. a root requirement that
            # matches nothing).
            conclusion = f"we can conclude that {_UNSATISFIABLE}"
            self._write(top, f"Because {self.say.text(top)}, {conclusion}.", False)
        width = len(f"({len(self.numbers)}) ") if self.numbers else 0
        out: list[str] = []
        for message, number in self.lines:
            if not message:
                if out and out[-1]:
                    out.append("")
                continue
            prefix = f"({number}) " if number is not None else ""
            out.append(prefix.ljust(width) + message)
        return out


def _depth(top: Incompatibility) -> int:
    depth, stack = 0, [(top, 1)]
    seen: set[Incompatibility] = set()
    while stack:
        node, level = stack.pop()
        depth = max(depth, level)
        if node not in seen and isinstance(node.cause, Derived):
            seen.add(node)
            stack += ((node.cause.conflict, level + 1), (node.cause.other, level + 1))
    return depth


def sentences(
    failure: NoSolution | Incompatibility,
    *,
    root: str | None = None,
    display: Display | None = None,
) -> list[str]:
    """The report's lines (numbered sentences, blank lines between paragraphs), no hints."""
    if isinstance(failure, NoSolution):
        top, root = failure.incompatibility, failure.root
    else:
        top = failure
    report = _Report(top, _Sentences(root or "", display or str))
    # The walk recurses at most once per derived node; give deep trees the stack they need.
    limit = sys.getrecursionlimit()
    needed = 4 * len(report.uses) + 100
    if needed > limit:
        sys.setrecursionlimit(needed)
    try:
        return report.render()
    finally:
        sys.setrecursionlimit(limit)


def render(
    failure: NoSolution | Incompatibility,
    *,
    root: str | None = None,
    display: Display | None = None,
    hints: Iterable[str] = (),
) -> str:
    """The report for a failure, then one ``hint: …`` line per hint (after a blank line).

    ``display`` maps package names to what the user should read (default: unchanged);
    ``root`` is needed only when passing a bare ``Incompatibility``.
    """
    lines = sentences(failure, root=root, display=display)
    hint_lines: Sequence[str] = [f"hint: {h}" for h in hints]
    return "\n".join([*lines, "", *hint_lines] if hint_lines else lines)
