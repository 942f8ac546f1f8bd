"""The plain ``resolve -r FILE -o FILE`` (one target, a requirements lock, no lock there yet)
loads only what that lock needs: Python's start-up plus the imports are most of a small
resolution's time. The universal resolution, the ``--python`` interpreter probe, the TOML
readers, the lock reader and the failure reports load only on the paths that use them."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import Mirror
from tests.resolve.endtoend import TARGET, source_command, source_env

# Modules (and packages, with everything below them) the plain path never loads.
PLAIN_PATH_NEVER = (
    "resolve.universal",
    "resolve.targets.interpreter",
    "resolve.inputs.pyproject",
    "resolve.inputs.toml_text",
    "resolve.lock.reader",
    "resolve.lock.check",
    "resolve.report.hints",
    "resolve.report.derivation",
    "resolve.report.explain_versions",
    "resolve.rules.toml_file",
    "db.records",  # the parsers' values: resolve reads rows, not pages
    "db.file_rows",
    "tomllib",
    "shutil",
    "zstandard",
    "sqlalchemy",
    "aiohttp",
    "alembic",
    "rich",
)


def _resolve_loading(mirror: Mirror, cwd: Path, *args: str) -> set[str]:
    """Run this checkout's ``resolve`` with ``args``; every module it imported."""
    run = subprocess.run(
        [*source_command("resolve"), "--db", str(mirror.db), *args],
        cwd=cwd,
        env=source_env(mirror, PYTHONPROFILEIMPORTTIME="1"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return {
        line.split("|")[-1].strip()
        for line in run.stderr.splitlines()
        if line.startswith("import time:") and "imported package" not in line
    }


def _unneeded(loaded: set[str]) -> list[str]:
    return sorted(
        module
        for module in loaded
        if any(module == name or module.startswith(name + ".") for name in PLAIN_PATH_NEVER)
    )


def test_the_plain_path_loads_only_what_its_lock_needs(shop: Mirror, tmp_path: Path) -> None:
    (tmp_path / "requirements.in").write_text("app[web]\nplugin\n")
    args = ("-r", "requirements.in", *TARGET, "-o", "requirements.txt")

    loaded = _resolve_loading(shop, tmp_path, *args)

    assert {"resolve.lock.writers", "resolve.solver.engine"} <= loaded  # the probe sees the run
    assert _unneeded(loaded) == []
    # With the lock there now, its pins are preferences: the lock reader is loaded for them.
    assert "resolve.lock.reader" in _resolve_loading(shop, tmp_path, *args)


def test_a_universal_lock_loads_the_universal_resolution(shop: Mirror, tmp_path: Path) -> None:
    loaded = _resolve_loading(shop, tmp_path, "app", "--universal")
    assert {"resolve.universal.environment", "resolve.universal.resolution"} <= loaded
