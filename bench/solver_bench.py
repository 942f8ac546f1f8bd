"""The solver alone, on an in-memory graph: no snapshot, no SQL, no start-up.

    python -m bench.solver_bench [--packages 700] [--seed 1] [--repeat 5]
    python -m bench.solver_bench --walk 5000,10000   # one package walked down N versions

Builds a PyPI-shaped random graph in :class:`tests.resolve.memory.MemoryProvider` (the offline
provider the solver tests use) and prints the best wall time of ``solve`` over ``--repeat``
runs. Whole-process figures against real snapshots are :mod:`bench.resolve_bench`'s.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Mapping

from tests.resolve.memory import MemoryProvider, Release


def synthetic_provider(packages: int, seed: int) -> MemoryProvider:
    """A PyPI-shaped random graph: skewed release counts, some pre-releases, mostly lower
    bounds with a share of upper bounds, dependencies pointing "down" the list."""
    rng = random.Random(seed)
    releases: list[list[str]] = []
    for _ in range(packages):
        count = rng.choice([2, 4, 8, 15, 30, 60, 120])
        found = []
        for n in range(count):
            version = f"{n // 20}.{n % 20 // 4}.{n % 4}"
            found.append(version + ("rc1" if rng.random() < 0.05 else ""))
        releases.append(found)
    index: dict[str, dict[str, Release | Mapping[str, str]]] = {}
    for i in range(packages):
        index[f"p{i}"] = {}
        for version in releases[i]:
            requires: dict[str, str] = {}
            for _ in range(rng.randrange(0, 9) if i + 1 < packages else 0):
                j = rng.randrange(i + 1, min(packages, i + 60))
                target = releases[j]
                low = target[rng.randrange(len(target) // 2 + 1)]
                roll = rng.random()
                if roll < 0.7:
                    requires[f"p{j}"] = f">={low}"
                elif roll < 0.9:
                    requires[f"p{j}"] = f">={low},<{int(target[-1].split('.')[0]) + 1}"
                else:
                    requires[f"p{j}"] = ""
            index[f"p{i}"][version] = requires
    return MemoryProvider(index, {f"p{i}": "" for i in range(0, packages, packages // 40)})


def walk_provider(versions: int) -> MemoryProvider:
    """``a`` has ``versions`` releases, each but the oldest needing a ``b`` the root excludes:
    the solver tries them newest first, one at a time, down to the oldest. Linear propagation
    makes the time grow with ``versions``; rescanning every ruled-out version on each change
    makes it grow with its square."""
    a = {f"{n}.0": ({"b": f">={n}"} if n > 1 else {}) for n in range(1, versions + 1)}
    b: dict[str, Mapping[str, str]] = {f"{n}.0": {} for n in range(1, versions + 1)}
    return MemoryProvider({"a": a, "b": b}, {"a": "", "b": "<2"})


def _walks(sizes: str, repeat: int) -> None:
    times = []
    for size in (int(s) for s in sizes.split(",")):
        best = float("inf")
        for _ in range(repeat):
            provider = walk_provider(size)
            start = time.perf_counter()
            pins = provider.solve().pins
            best = min(best, time.perf_counter() - start)
        assert str(pins["a"]) == "1.0", pins
        times.append(best)
        print(f"walk down {size} versions: {best * 1000:.1f} ms (best of {repeat})")
    if len(times) > 1:
        print(f"ratio last/first: {times[-1] / times[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--packages", type=int, default=700)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--walk", metavar="N,M", help="time walks down N (and M) versions")
    args = parser.parse_args()
    if args.walk:
        _walks(args.walk, args.repeat)
        return
    best = float("inf")
    resolved = 0
    for _ in range(args.repeat):
        provider = synthetic_provider(args.packages, seed=args.seed)
        start = time.perf_counter()
        result = provider.solve()
        best = min(best, time.perf_counter() - start)
        resolved = len(result.pins)
    print(f"{resolved} packages resolved in {best * 1000:.1f} ms (best of {args.repeat})")


if __name__ == "__main__":
    main()
