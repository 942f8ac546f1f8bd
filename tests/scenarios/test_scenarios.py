"""Every scenario file, every case, through the real path (see :mod:`tests.scenarios.harness`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.conftest import Mirror, clean_environment
from tests.scenarios.harness import Case, Scenario, load_scenarios, prepare, run_resolve

# One prepared database per scenario and engine, for the cases that follow.
_PREPARED: dict[tuple[str, str], Mirror] = {}


def _params() -> list[object]:
    return [
        pytest.param(scenario, number, id=f"{scenario.name}-{number}")
        for scenario in load_scenarios()
        for number in range(len(scenario.cases))
    ]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def prepared(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> object:
    engine: str = request.param

    def get(scenario: Scenario) -> Mirror:
        mirror = _PREPARED.get((engine, scenario.name))
        if mirror is None:
            home = tmp_path_factory.mktemp(scenario.name)
            db: Path | str = home / "mirror.db"
            if engine == "postgresql":
                server = request.getfixturevalue("postgres_server")
                db = server.url(server.fresh_database())
            mirror = Mirror(db, clean_environment(home), home)
            prepare(scenario, mirror)
            _PREPARED[engine, scenario.name] = mirror
        return mirror

    return get


def _check(case: Case, scenario: Scenario, mirror: Mirror, workdir: Path) -> None:
    for name, text in case.files.items():
        (workdir / name).write_text(text)
    options = [o.replace("{dir}", str(workdir)) for o in case.options]
    args = [*scenario.target, *options, *case.requirements, "--format", "json"]
    outcome = run_resolve(mirror, *args)
    if "-o" in options and outcome.exit_code == 0:
        written = Path(options[options.index("-o") + 1]).read_text()
        outcome = dataclasses.replace(outcome, stdout=written)
    output = outcome.stdout + outcome.stderr
    assert outcome.exit_code == case.code, output
    if not case.error:
        if case.expect is not None:
            assert outcome.pins == dict(case.expect)
        if case.lock is not None:
            assert outcome.entries == sorted(case.lock), outcome.stdout
        for name, index in case.origin.items():
            assert outcome.origins[name] == index
    for text in case.report:
        assert text in outcome.stderr, outcome.stderr
    hint_lines = [line for line in outcome.stderr.splitlines() if line.startswith("hint:")]
    for text in case.hints:
        assert any(text in line for line in hint_lines), outcome.stderr
    for text in case.warnings:
        assert text in outcome.stderr, outcome.stderr
    for text in case.absent:
        assert text not in output, output


@pytest.mark.parametrize(("scenario", "number"), _params())
def test_scenario(scenario: Scenario, number: int, prepared: object, tmp_path: Path) -> None:
    mirror = prepared(scenario)  # type: ignore[operator]
    _check(scenario.cases[number], scenario, mirror, tmp_path)
