"""The solver alone, on an in-memory graph: no snapshot, no SQL, no start-up.

    python -m bench.solver_bench [--packages 700] [--seed 1] [--repeat 5]

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--packages", type=int, default=700)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
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
