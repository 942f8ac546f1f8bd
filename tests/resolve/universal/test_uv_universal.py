"""``resolve --universal`` against ``uv pip compile --universal`` on the same snapshot, served by
``mirror serve``: the same versions, under markers that mean the same environments within the
lock's Python range.

Differences are policy, and documented here:

- uv writes ``python_full_version`` where we write ``python_version`` for minor boundaries
  (``python_full_version < '3.10'`` is ``python_version < '3.10'``): compared as sets of
  environments, not as text;
- uv forks on disjoint markers even where the specifiers agree, and may repeat the Python
  range on a pin; both mean the same environments, so the comparison is semantic (within
  the lock's Python range, where the platform variables agree: ``platform_system ==
  'Windows'`` is ``sys_platform == 'win32'``, and we write the latter).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from resolve.universal.environment import KNOWN_PLATFORMS
from resolve.universal.marker_algebra import TRUE, Expr
from resolve.universal.marker_parse import parse_text, python_range
from tests.conftest import Mirror, clean_environment
from tests.mirror.test_install_clients import _client_env, _mirror_serve
from tests.scenarios.harness import HERE, Scenario, prepare, run_resolve

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent

CASES = [
    ("U1", ["a"], "3.9"),
    ("U1", ["c", "a"], "3.9"),
    ("U1", ["b==1.0 ; python_version < '3.12'", "b==2.0 ; python_version >= '3.12'"], "3.9"),
    ("U2", ["app"], "3.12"),
    ("U2", ["tool"], "3.12"),
    ("U2", ["system"], "3.12"),  # platform_system and sys_platform move together
    ("U3", ["native"], "3.12"),
    ("U3", ["split"], "3.12"),  # no solution for the fork outside Windows, for both
]

Entries = dict[tuple[str, str], Expr]


def _entries(text: str) -> Entries:
    found: Entries = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip().rstrip("\\").strip()
        if not line or line.startswith("-"):
            continue
        pin, _, marker = line.partition(";")
        name, _, version = pin.strip().partition("==")
        found[(name.strip().lower(), version.strip())] = (
            parse_text(marker.strip()) if marker.strip() else TRUE
        )
    return found


@pytest.mark.parametrize(("scenario", "requirements", "python"), CASES)
def test_uv_finds_the_same_universal_lock(
    scenario: str, requirements: list[str], python: str, tmp_path: Path
) -> None:
    path = HERE / f"{scenario}.toml"
    mirror = Mirror(tmp_path / "mirror.db", clean_environment(tmp_path))
    prepare(Scenario(path, tomllib.loads(path.read_text())), mirror)
    source = tmp_path / "requirements.in"
    source.write_text("\n".join(requirements) + "\n")
    ours = run_resolve(
        mirror, "--universal", "--python-version", python, "-r", str(source), "--no-header"
    )
    assert ours.exit_code in (0, 1), ours.stderr
    env = _client_env(tmp_path)
    with _mirror_serve(mirror.db, tmp_path, env) as (url, _log):
        command = [str(BIN / "uv"), "pip", "compile", str(source), "--universal"]
        command += ["--python-version", python, "--index-url", url, "--no-cache"]
        command += ["--no-header", "--no-annotate", "--python", sys.executable]
        done = subprocess.run(
            command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240
        )
    if ours.exit_code == 1:
        assert done.returncode == 1 and "No solution found" in done.stderr, done.stderr
        return
    assert done.returncode == 0, done.stderr
    major, minor = map(int, python.split("."))
    lock = python_range((major, minor, 0)) & KNOWN_PLATFORMS
    theirs, mine = _entries(done.stdout), _entries(ours.stdout)
    assert sorted(theirs) == sorted(mine), (done.stdout, ours.stdout)
    for key, marker in mine.items():
        assert (marker & lock).same(theirs[key] & lock), (key, done.stdout, ours.stdout)
