"""Incompatibilities as phrases, for :mod:`resolve.report.derivation`'s sentences.

One incompatibility reads as one clause ("a==1.0 depends on b>=2", "no versions of b match
>=2"), two as one clause joined the way pub joins them ("a depends on both b and c"), and a
long run of them from one chain as a few summaries (:meth:`Phrases.summary`). Version sets are
written by :mod:`resolve.report.version_text`, whose text always means exactly the set; a
dependency keeps its own requirement text when that text means its set too.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

from resolve.report.version_text import describe, listing, means, specifier
from resolve.solver.incompatibility import (
    Dependency,
    Incompatibility,
    NoVersions,
    Root,
    Term,
    Unavailable,
)
from resolve.solver.versionset import VersionSet

__all__ = ["UNSATISFIABLE", "Display", "Phrases", "ref"]

#: How to show a package name (e.g. ``a[x]`` for a virtual extra package).
Display = Callable[[str], str]

UNSATISFIABLE = "your requirements are unsatisfiable"


def ref(line: int | None) -> str:
    """`` (3)``: the number of the line that said it, if numbered."""
    return "" if line is None else f" ({line})"


class Phrases:
    """Incompatibilities as phrases, with the root spoken of as "you"."""

    def __init__(self, root: str, display: Display) -> None:
        self.root = root
        self.display = display

    def term(self, term: Term) -> str:
        return f"{self.display(term.package)}{describe(term.versions)}"

    def subject(self, term: Term) -> tuple[str, bool]:
        """A positive term as a sentence subject, and whether it is plural."""
        versions = term.versions
        if versions.is_full and len(versions.universe) > 1:
            return f"all versions of {self.display(term.package)}", True
        # "a>=1.0 depends on" (a specifier names the package), "a {1.0, 1.1} depend on".
        return self.term(term), specifier(versions) is None and len(versions) > 1

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

    @staticmethod
    def requirement(cause: Dependency, term: Term | None) -> str | None:
        """The dependency's own requirement text, when it says which versions are meant.

        It does when it matches exactly the term's set (a specifier the provider passed as
        text was evaluated into that very set), or when the policy narrowed the set and the
        note says how. A requirement that matched no candidate has no term left to compare.
        """
        text = cause.requirement
        if text is None:
            return None
        text = text.strip()
        if term is None or cause.note:
            return text
        return text if means(term.versions.universe, text, term.versions.mask) else None

    def negatives(self, incompatibility: Incompatibility) -> list[str]:
        """Negative terms as what is required; a dependency keeps its own specifier text
        when that text means the set."""
        cause = incompatibility.cause
        found = []
        for term in incompatibility.terms:
            if term.positive:
                continue
            text = self.requirement(cause, term) if isinstance(cause, Dependency) else None
            if text is None:
                found.append(self.term(term))
                continue
            wanted = f"{self.display(term.package)}{text}"
            assert isinstance(cause, Dependency)
            found.append(f"{wanted} ({cause.note})" if cause.note else wanted)
        return found

    def _unmatched(self, cause: Dependency) -> tuple[str, str]:
        """A requirement that matched no candidate: what it asks for, and "which …"."""
        wanted = f"{self.display(cause.dependency)}{self.requirement(cause, None) or ''}"
        if cause.note:  # there are versions; the policy kept them out (SEMANTICS §3)
            return wanted, f"matches no versions the policy allows ({cause.note})"
        return wanted, "matches no versions" if cause.requirement else "has no versions"

    def text(self, incompatibility: Incompatibility) -> str:
        cause = incompatibility.cause
        terms = incompatibility.terms
        if isinstance(cause, Dependency) and len(terms) == 1:
            # The requirement matched no candidate, so its term was dropped.
            wanted, which = self._unmatched(cause)
            return f"{self.depends(list(terms), wanted)} which {which}"
        if isinstance(cause, NoVersions):
            term = terms[0]
            name = self.display(term.package)
            if not term.versions.universe:
                return f"there are no versions of {name}"
            if term.versions.is_full:
                return f"none of the versions of {name} can be chosen"
            text = specifier(term.versions)
            if text is None:
                return f"none of {name} {listing(term.versions)} can be chosen"
            return f"no versions of {name} match {text}"
        if isinstance(cause, Unavailable):
            subject, plural = self.subject(terms[0])
            return f"{subject} {'are' if plural else 'is'} unavailable ({cause.reason})"
        if isinstance(cause, Root):
            return f"you require {self.display(self.root)}"
        positive = self.positives(incompatibility)
        negative = self.negatives(incompatibility)
        if not positive and not negative:
            return UNSATISFIABLE
        if negative:
            return self.depends(positive, " or ".join(negative))
        if len(positive) == 1:
            if positive[0].package == self.root:
                return UNSATISFIABLE
            return f"{self.subject(positive[0])[0]} cannot be used"
        shown = [self.term(t) for t in positive]
        return f"{', '.join(shown[:-1])} and {shown[-1]} are incompatible"

    # -- two incompatibilities ----------------------------------------------------------

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
            or f"{self.text(a)}{ref(line_a)} and {self.text(b)}{ref(line_b)}"
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
        return self.depends(pa, f"both {na}{ref(line_a)} and {nb}{ref(line_b)}")

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
        return f"{first}{ref(line_p)} which depends on {further}{ref(line_l)}"

    # -- many incompatibilities of one chain --------------------------------------------

    def kind(self, incompatibility: Incompatibility) -> Hashable:
        """Which summary an external incompatibility joins (see :meth:`summary`): the
        dependencies of one package on another (and whether they matched nothing), the
        versions of one package unavailable for one reason; anything else stands alone."""
        cause = incompatibility.cause
        terms = incompatibility.terms
        if isinstance(cause, Dependency) and terms[0].positive and terms[0].package != self.root:
            unmatched = len(terms) == 1
            # A policy note differs per requirement and belongs to the "which" clause of an
            # unmatched one; on a matched one it stays with the requirement's own text.
            return ("depends", cause.package, cause.dependency, unmatched, unmatched and cause.note)
        if isinstance(cause, Unavailable) and len(terms) == 1 and terms[0].positive:
            return ("unavailable", terms[0].package, cause.reason)
        return ("alone", id(incompatibility))

    def summary(self, externals: Sequence[Incompatibility]) -> str:
        """External incompatibilities, those of one kind summarised in one phrase.

        The wording (kept short so that a package with thousands of versions reads in a few
        lines): "a 1.0 through 1.299 (300 versions) depend on b>=1 through b>=300 which match
        no versions". ``1.0 through 1.299`` is used only when the versions are consecutive
        candidates, with their count; otherwise the set is written by ``version_text``. The
        requirements are named first and last in the order of the versions that make them
        (the lowest version's first), each distinct one counted once.
        """
        groups: dict[Hashable, list[Incompatibility]] = {}
        for incompatibility in externals:
            groups.setdefault(self.kind(incompatibility), []).append(incompatibility)
        phrases = [self._group(members) for members in groups.values()]
        if len(phrases) == 1:
            return phrases[0]
        return f"{', '.join(phrases[:-1])} and {phrases[-1]}"

    def _group(self, members: list[Incompatibility]) -> str:
        if len(members) == 1:
            return self.text(members[0])
        # Every member of a group has the same package in its one positive first term.
        members = sorted(members, key=lambda m: _lowest_bit(m.terms[0].versions))
        package = members[0].terms[0].package
        universe = members[0].terms[0].versions.universe
        union = VersionSet(universe, 0)
        for member in members:
            union |= member.terms[0].versions
        subject, plural = self._span(package, union)
        cause = members[0].cause
        if isinstance(cause, Unavailable):
            return f"{subject} {'are' if plural else 'is'} unavailable ({cause.reason})"
        assert isinstance(cause, Dependency)
        wanted = list(dict.fromkeys(self._wanted(m) for m in members))
        objects = wanted[0] if len(wanted) == 1 else f"{wanted[0]} through {wanted[-1]}"
        phrase = f"{subject} {'depend' if plural else 'depends'} on {objects}"
        if len(members[0].terms) == 1:
            which = self._unmatched(cause)[1]
            if len(wanted) > 1:
                which = which.replace("matches", "match", 1)
            phrase = f"{phrase} which {which}"
        return phrase

    def _wanted(self, dependency: Incompatibility) -> str:
        """What one dependency incompatibility asks for ("b>=2")."""
        cause = dependency.cause
        assert isinstance(cause, Dependency)
        if len(dependency.terms) == 1:
            return self._unmatched(cause)[0]
        return " or ".join(self.negatives(dependency))

    def _span(self, package: str, versions: VersionSet) -> tuple[str, bool]:
        """``a 1.0 through 1.299 (300 versions)`` for consecutive candidates, otherwise the
        set as a subject; and whether it is plural."""
        runs = list(versions.runs())
        if len(versions) > 1 and len(runs) == 1:
            first, last = versions.lowest(), versions.highest()
            name = self.display(package)
            return f"{name} {first} through {last} ({len(versions)} versions)", True
        return self.subject(Term(package, versions, True))


def _lowest_bit(versions: VersionSet) -> int:
    mask = versions.mask
    return (mask & -mask).bit_length()
