"""What a backjump undoes is decided again cheaply: the provider is asked once per package
and allowed set, the store keeps one incompatibility per dependency, and the decision queue
holds one entry per package and priority."""

from __future__ import annotations

from typing import Any

from packaging.version import Version

from resolve.solver.engine import Engine
from resolve.solver.incompatibility import Dependency
from resolve.solver.priority import CONFLICT_THRESHOLD, DecisionQueue, Priorities
from resolve.solver.versionset import VersionSet
from tests.resolve.memory import ROOT, MemoryProvider


class _CountingChoices(MemoryProvider):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asked: list[tuple[str, int]] = []

    def choose(self, package: str, allowed: VersionSet) -> Version | None:
        self.asked.append((package, allowed.mask))
        return super().choose(package, allowed)


def _backjumping_index(count: int) -> dict[str, Any]:
    """x is decided before b; every b but the oldest needs an older x, so the solver backs
    out of x's decision (see test_priorities) and decides a, c and more again."""
    return {
        "a": {"1.0": {"x": ""}},
        "c": {"1.0": {"b": ""}},
        "b": {f"{n}.0": ({"x": "<=2"} if n > 1 else {}) for n in range(1, count + 1)},
        "x": {"1": {}, "2": {}, "3": {}},
    }


def test_each_choice_is_asked_for_once() -> None:
    provider = _CountingChoices(_backjumping_index(CONFLICT_THRESHOLD + 3), {"a": "", "c": ""})
    engine = Engine(provider, ROOT, Version("0"))
    decided = engine.run()
    assert engine.backtracks > 0
    assert len(provider.asked) == len(set(provider.asked))
    pins = {p: str(engine.universes[p][i]) for p, i in decided.items() if p != ROOT}
    assert pins == {"a": "1.0", "b": f"{CONFLICT_THRESHOLD + 3}.0", "c": "1.0", "x": "2"}


def test_dependencies_decided_again_keep_their_incompatibilities() -> None:
    provider = MemoryProvider(_backjumping_index(CONFLICT_THRESHOLD + 3), {"a": "", "c": ""})
    engine = Engine(provider, ROOT, Version("0"))
    engine.run()
    store = engine.store
    live = [
        cause
        for iid, cause in enumerate(store.causes)
        if iid not in store.replaced and isinstance(cause, Dependency)
    ]
    # One live incompatibility per (depender, dependency, requirement): none added twice.
    assert len(live) == len(set(live))


def test_the_queue_does_not_hold_copies() -> None:
    priorities = Priorities(ROOT)
    acc, absent, decided = {"a": 1, "b": 1}, {"a": 2, "b": 2}, {}
    queue = DecisionQueue(priorities, acc, absent, decided)
    priorities.discover("a", pinned=False)
    priorities.discover("b", pinned=False)
    for _ in range(3):
        queue.push("b")
        queue.push("a")
    assert len(queue._heap) == 2
    assert queue.next() == "a"
    decided["a"] = 0
    assert queue.next() == "b"
    decided["b"] = 0
    assert queue.next() is None
    # A package undecided again is queued again, once.
    del decided["a"]
    queue.push("a")
    queue.push("a")
    assert queue.next() == "a"
    # A class change queues it again under its new key: the old entry is skipped.
    priorities.discover("b", pinned=True)
    del decided["b"]
    queue.push("b")
    assert queue.next() == "b"


def test_a_walk_down_keeps_its_choices_apart() -> None:
    """The masks of a walk down (2**k - 1, ...) share few int hashes (modulo 2**61 - 1): the
    keys of the remembered choices must not, or each lookup would compare against many."""
    count = 1000
    index = {
        "a": {f"{n}.0": ({"b": ">=2"} if n > 1 else {}) for n in range(1, count + 1)},
        "b": {"1.0": {}},
    }
    engine = Engine(MemoryProvider(index, {"a": ""}), ROOT, Version("0"))
    decided = engine.run()
    assert str(engine.universes["a"][decided["a"]]) == "1.0"
    keys = [key for key in engine._choices if key[0] == "a"]
    assert len(keys) == count
    assert len({hash(key) for key in keys}) == count
