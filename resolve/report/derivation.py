"""Derivation tree -> numbered sentences, the way pub, pubgrub-rs and uv report failures.

    Because a==1.0 depends on b>=2 and no versions of b match >=2, a==1.0 cannot be used.
    And because you require a, we can conclude that your requirements are unsatisfiable.

The walk is pub's (``failure.dart``): a derived incompatibility is explained from its two
causes; one used by several derivations is written once, numbered ``(1)``, and referred to
by number afterwards. Each incompatibility is a phrase (:mod:`resolve.report.phrases`); its
version sets are text that means exactly them (:mod:`resolve.report.version_text`).

A long chain, where each conclusion follows from the one before and one more fact (the
solver trying a package's versions one after another), is one sentence rather than one per
version: its facts are summarised ("a 1.0 through 1.299 (300 versions) depend on b>=1
through b>=300 which match no versions"), so that a project with thousands of versions
still gives a report of a few lines. The caller's ``hints`` follow the report as ``hint:``
lines, kept apart from it as uv does.

The tree stays data (:class:`resolve.solver.incompatibility.NoSolution`, version sets as
bitmasks) until the command line asks for it in words here; ``resolve --format json`` carries
these same lines.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from typing import TypeAlias, TypeVar

from resolve.report.phrases import UNSATISFIABLE, Display, Phrases, ref
from resolve.solver.incompatibility import Derived, Incompatibility, NoSolution

__all__ = ["Display", "render", "sentences"]

#: A chain is summarised when it has at least this many facts, ...
CHAIN = 4
#: ... some kind of fact (see ``Phrases.kind``) at least this many times ...
REPEATED = 3
#: ... and facts of at most this many kinds, so that the sentence stays readable.
KINDS = 3

_T = TypeVar("_T")
#: A walk of one node: yields (child, whether it is numbered as a conclusion) to be written
#: first, and returns its result.
_Walk: TypeAlias = Generator[tuple[Incompatibility, bool], None, _T]


class _Report:
    """pub's ``_Writer``: walks the tree, numbering shared derivations."""

    def __init__(self, top: Incompatibility, phrases: Phrases) -> None:
        self.top = top
        self.say = phrases
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
        return f"{self.say.text(node)}{ref(self.numbers.get(node))}"

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

    def _chain(self, top: Incompatibility) -> tuple[list[Incompatibility], Incompatibility | None]:
        """The facts of the chain that ends at ``top``, and the node it starts from (None
        when it starts from two facts), or no facts when it is too short to summarise.

        The chain goes down through derivations from one derived node and one fact (an
        external incompatibility) each, as long as the derived node is said nowhere else
        (used once, not numbered) and the facts are of at most ``KINDS`` kinds.
        """
        facts: list[Incompatibility] = []
        kinds: dict[object, int] = {}
        node, below = top, None
        while True:
            assert isinstance(node.cause, Derived)
            pair = node.cause.conflict, node.cause.other
            found = [c for c in pair if not c.derived]
            counted = dict(kinds)
            for fact in found:
                kind = self.say.kind(fact)
                counted[kind] = counted.get(kind, 0) + 1
            if not found or len(counted) > KINDS:
                below = node
                break
            facts += found
            kinds = counted
            derived = [c for c in pair if c.derived]
            if not derived:
                break
            node = derived[0]
            if node in self.numbers or self.uses[node] > 1:
                below = node
                break
        if len(facts) < CHAIN or max(kinds.values(), default=0) < REPEATED:
            return [], None
        # Bottom-up, as the solver met them: the summaries follow that order.
        return facts[::-1], below

    def _summarise(self, node: Incompatibility, numbered: bool) -> _Walk[bool]:
        """Write a long chain ending at ``node`` as one sentence; whether it was one."""
        facts, below = self._chain(node)
        if not facts:
            return False
        said = self._conclusion(node)
        summary = self.say.summary(facts)
        if below is None:
            self._write(node, f"Because {summary}, {said}.", numbered)
        elif below in self.numbers:
            self._write(node, f"Because {summary} and {self._ref(below)}, {said}.", numbered)
        else:
            yield below, False
            self._write(node, f"And because {summary}, {said}.", numbered)
        return True

    def visit(self, top: Incompatibility) -> None:
        """Write ``top``'s derivation, children first: a loop over a stack of the walks in
        progress, not recursion, so a chain of any depth fits (each walk yields the node it
        needs written before it goes on)."""
        walks = [self._visit(top, False)]
        while walks:
            try:
                node, conclusion = next(walks[-1])
            except StopIteration:
                walks.pop()
                continue
            walks.append(self._visit(node, conclusion))

    def _visit(self, node: Incompatibility, conclusion: bool) -> _Walk[None]:
        numbered = conclusion or self.uses[node] > 1
        assert isinstance(node.cause, Derived)
        if (yield from self._summarise(node, numbered)):
            return
        cause, other = node.cause.conflict, node.cause.other
        said = self._conclusion(node)
        if cause.derived and other.derived:
            line1, line2 = self.numbers.get(cause), self.numbers.get(other)
            if line1 is not None and line2 is not None:
                both = self.say.both(cause, other, line1, line2)
                self._write(node, f"Because {both}, {said}.", numbered)
            elif line1 is not None or line2 is not None:
                with_line, without = (cause, other) if line1 is not None else (other, cause)
                yield without, False
                self._write(node, f"And because {self._ref(with_line)}, {said}.", numbered)
            elif self._single_line(cause) or self._single_line(other):
                first, second = (cause, other) if self._single_line(other) else (other, cause)
                yield first, False
                yield second, False
                self._write(node, f"Thus, {said}.", numbered)
            else:
                yield cause, True
                self.lines.append(("", None))
                yield other, False
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
                yield deeper, False
                both = self.say.both(outer, external, None, None)
                self._write(node, f"And because {both}, {said}.", numbered)
            else:
                yield derived, False
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
            conclusion = f"we can conclude that {UNSATISFIABLE}"
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
    return _Report(top, Phrases(root or "", display or str)).render()


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
