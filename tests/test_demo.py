"""`make demo` runs the whole story and ends well: the failure and its hint, the rules that fix
it, the air-gapped lock byte-identical, and stock pip installing it from the wheelhouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.mark.slow
def test_the_demo_tells_the_whole_story(tmp_path: Path, clean_env: dict[str, str | None]) -> None:
    env = {k: v for k, v in {**os.environ, **clean_env}.items() if v is not None}
    env.pop("SNEAKERNET_DEBUG", None)
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "bench.demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    # The 403 stops the resolution, and the hint names the rule to set.
    assert "`mirror rules set index.nightly.not-here 403`" in out
    # The merged best-version view takes the stable torch; the rules take the nightly one.
    assert "torch==2.2.0 \\" in out
    assert "nightly  2.3.0.dev20240219+cu121  picked" in out
    assert "which the pin `torch*` excludes" in out
    assert "the lock made inside the air gap is byte-identical" in out
    site = sorted(p.name for p in (tmp_path / "demo" / "site").glob("*.dist-info"))
    assert site == [
        "pytorch_triton-3.0.0+git1a2b3c4d.dist-info",
        "ruff-0.6.9.dist-info",
        "torch-2.3.0.dev20240219+cu121.dist-info",
    ]
