"""PEP 440 version matching, owned by the project so that a lock never changes with the
installed ``packaging``.

``packaging`` still parses and orders versions (that part of PEP 440 has not moved between its
releases); *matching* a candidate against one specifier clause is decided here, from the text
of PEP 440 ("Version specifiers"), because ``packaging`` releases have disagreed on it: under
24.2, ``>1.0a1`` rejected ``1.0.post1``, under 26 it accepts it, as the PEP says. The rules:

- Local version labels are ignored when matching, except by ``==V+label`` / ``!=V+label``,
  which compare the label too ("Local version identifiers").
- ``==V`` / ``!=V``: equality after zero-padding the release; ``==V.*`` prefix matching is
  done by :mod:`resolve.solver.versionset` as a window of the sorted candidates.
- ``>=V`` / ``<=V``: plain ordering of the public version.
- ``>V`` matches no post-release *of V* unless V is one ("Exclusive ordered comparison"):
  ``>1.0`` rejects ``1.0.post1``, ``>1.0a1`` accepts it (it is a post-release of 1.0, not of
  1.0a1). It matches no local version of V, which public-version ordering already gives.
- ``<V`` matches no pre-release of V unless V is itself one: ``<2.0`` rejects ``2.0rc1``,
  ``<1.0.post1`` rejects only ``1.0.post1.dev1``-like versions.
- ``~=V`` is ``>=V`` together with the prefix match on V without its last release part.
- ``===V`` compares the normalised version text, case-insensitively ("Arbitrary equality").

Whether a matched pre-release may be *picked* is policy (:mod:`resolve.policy.prerelease`).
:data:`SEMANTICS` names these rules; every lock records it.
"""

from __future__ import annotations

from functools import lru_cache

from packaging.specifiers import Specifier
from packaging.version import Version

__all__ = ["SEMANTICS", "contains", "matches", "prefix_matches", "public"]

# Bump when a rule above changes: locks name it, so an old lock states what it was made with.
SEMANTICS = "pep440/1"


@lru_cache(maxsize=65536)
def public(version: Version) -> Version:
    """``version`` without its local label (PEP 440: labels are ignored when matching)."""
    return version if version.local is None else Version(version.public)


def _release(version: Version) -> tuple[int, tuple[int, ...]]:
    """Epoch and release with trailing zeros dropped: ``1.0`` and ``1`` are one release."""
    release = version.release
    end = len(release)
    while end > 1 and release[end - 1] == 0:
        end -= 1
    return version.epoch, release[:end]


def _is_post_release_of(candidate: Version, spec: Version) -> bool:
    """``candidate`` is a post-release (or a dev release of one) of ``spec``'s version."""
    if candidate.post is None or spec.post is not None or spec.dev is not None:
        return False
    return _release(candidate) == _release(spec) and candidate.pre == spec.pre


@lru_cache(maxsize=4096)
def _lowest_prerelease_of(spec: Version) -> Version:
    """The lowest pre-release of ``spec`` itself: ``2.0`` → ``2.0.dev0``; ``1.0.post1`` →
    ``1.0.post1.dev0`` (its dev releases are its only pre-releases)."""
    return Version(f"{spec.public}.dev0")


def prefix_matches(candidate: Version, epoch: int, prefix: tuple[int, ...]) -> bool:
    """``==prefix.*``: the candidate's release, zero-padded, starts with ``prefix``; its pre-,
    post-, dev- and local parts do not matter ("Version matching", prefix matching)."""
    release = candidate.release + (0,) * max(0, len(prefix) - len(candidate.release))
    return candidate.epoch == epoch and release[: len(prefix)] == prefix


def matches(operator: str, spec: Version, candidate: Version, text: str = "") -> bool:
    """Whether ``candidate`` matches the clause ``operator spec`` (no wildcard).

    ``text`` is the clause's version as written, needed by ``===`` only.
    """
    if operator == "===":
        return str(candidate).lower() == text.lower()
    if operator in ("==", "!="):
        equal = candidate == spec if spec.local is not None else public(candidate) == spec
        return equal if operator == "==" else not equal
    version = public(candidate)
    if operator == ">=":
        return version >= spec
    if operator == "~=":
        return version >= spec and prefix_matches(version, spec.epoch, spec.release[:-1])
    if operator == "<=":
        return version <= spec
    if operator == ">":
        return version > spec and not _is_post_release_of(version, spec)
    if operator == "<":
        # The pre-releases of V are exactly the versions in [V.dev0, V).
        return version < (spec if spec.is_prerelease else _lowest_prerelease_of(spec))
    raise ValueError(f"unknown version operator {operator!r}")


def contains(specifier: Specifier, candidate: Version) -> bool:
    """Whether ``candidate`` matches one parsed clause, wildcards included (pre-releases are
    matched like any version: picking them is policy)."""
    operator, text = specifier.operator, specifier.version
    if text.endswith(".*"):
        prefix = Version(text[:-2])
        found = prefix_matches(candidate, prefix.epoch, prefix.release)
        return found if operator == "==" else not found
    return matches(operator, Version(text) if operator != "===" else candidate, candidate, text)
