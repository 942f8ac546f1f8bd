"""Storing rule changes: the current rules as a value, and each change committed as a new
rule-set version (``db.rules.store``) with the index table kept in step."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from db.errors import SneakernetError
from db.indexes import IndexConfig, add_index, apply_rule_indexes
from db.rules.store import current_digest, record_rule_set, rule_document
from resolve.rules.edit import describe, with_index
from resolve.rules.model import Cutoff, IndexRule, RuleError, RuleSet

__all__ = ["Change", "add_index_version", "change_rules", "commit", "load_rules", "rule_errors"]


@contextlib.contextmanager
def rule_errors() -> Iterator[None]:
    """:class:`RuleError` (resolve's) as the domain error the command line renders."""
    try:
        yield
    except RuleError as exc:
        raise SneakernetError(exc.message, hint=exc.hint or "see `mirror rules show`") from exc


@dataclass(frozen=True, slots=True)
class Change:
    before: RuleSet
    after: RuleSet
    summary: str
    recorded: bool


def load_rules(conn: Connection, digest: str | None = None) -> RuleSet:
    """The current rules (or the stored version named by ``digest``) as a value."""
    with rule_errors():
        return RuleSet.from_document(rule_document(conn, digest))


def commit(conn: Connection, before: RuleSet, after: RuleSet, origin: str | None = None) -> Change:
    """Make ``after`` the current rules, unless they already are. The summary says what
    changed, after ``origin`` when given (where a change came from, e.g. an imported file)."""
    with rule_errors():
        after.check()
    summary = describe(before, after)
    if origin:
        summary = f"{origin}: {summary}"
    if before.digest == after.digest:
        return Change(before, after, summary, recorded=False)
    if current_digest(conn) is None and before.indexes:
        # The rules the indexes implied may be named by a lock already: store them first, so
        # that `resolve --rules DIGEST` can still reproduce it.
        record_rule_set(
            conn, before.to_document(), before.digest, "rules implied by the configured indexes"
        )
    recorded = record_rule_set(conn, after.to_document(), after.digest, summary)
    apply_rule_indexes(conn, after.to_document()["indexes"])
    return Change(before, after, summary, recorded)


def add_index_version(
    conn: Connection,
    *,
    name: str,
    url: str,
    format: str = "simple",
    is_default: bool = False,
    explicit: bool = False,
    not_here: Sequence[int] = (),
    cutoff: Cutoff = None,
) -> IndexConfig:
    """Add an index and record the rule-set version that includes it: indexes are part of
    the rules, so every index added (by hand or adopted from pip) makes a new version."""
    before = load_rules(conn)
    # The table spells the opt-out "false" (db/schema.py).
    stored = "false" if cutoff is False else cutoff if isinstance(cutoff, str) else None
    config = add_index(
        conn,
        name=name,
        url=url,
        format=format,
        is_default=is_default,
        explicit=explicit,
        not_here=not_here,
        exclude_newer=stored,
    )
    entry = IndexRule(
        config.name, config.url, config.is_default, config.explicit, config.not_here, cutoff
    )
    commit(conn, before, with_index(before, entry))
    return config


def change_rules(conn: Connection, edit: Callable[[RuleSet], RuleSet]) -> Change:
    """Apply ``edit`` to the current rules and :func:`commit` the result."""
    before = load_rules(conn)
    with rule_errors():
        after = edit(before)
    return commit(conn, before, after)
