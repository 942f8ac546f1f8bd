"""The airflow[all]-shaped synthetic graph of the benchmarks: one hub, its ``[all]`` extra
naming its own provider extras, and the PyPI-shaped graphs unchanged beside it."""

from __future__ import annotations

import pytest

from bench.synthetic_graph import build_graph, parse_size


def test_one_root_asks_for_the_hub_with_all_its_extras() -> None:
    graph = build_graph(120, shape="airflow")

    (root,) = graph.roots
    assert root.endswith("[all]") and graph.key == "graph-airflow-120-seed0-v1"
    hub = next(p for p in graph.projects if f"{p.name}[all]" == root)
    newest = hub.releases[-1]
    own = [r for r in newest.requires_dist if r.startswith(f"{hub.name}[")]
    assert len(own) >= 50 and all(r.endswith('; extra == "all"') for r in own)
    assert "all" in newest.provides_extra and len(newest.provides_extra) > 50


def test_sizes_name_a_shape_or_the_default() -> None:
    assert parse_size("700") == ("pypi", 700)
    assert parse_size("airflow-700") == ("airflow", 700)
    assert build_graph(40).key == "graph-40-seed0-v1"
    with pytest.raises(SystemExit):
        parse_size("django-700")
