"""The air-gap round trip: resolve on the connected side, carry the snapshot as one file,
import it into a fresh database, resolve there: the lock is byte-identical."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import BOTH_ENGINES, Mirror, Serve
from tests.fixtures.index_server import FixtureIndex, make_project
from tests.scenarios.harness import run_resolve

pytestmark = BOTH_ENGINES

TARGET = ("--python-version", "3.12", "--python-platform", "linux")


def test_an_imported_snapshot_resolves_to_the_same_bytes(
    mirror: Mirror, serve: Serve, tmp_path: Path
) -> None:
    nightly, public = FixtureIndex(), FixtureIndex()
    make_project(nightly, "torch", ["2.3.0.dev20240219+cu121"], deps=["filelock"], format="html")
    make_project(public, "torch", ["2.2.0"])
    make_project(public, "filelock", ["3.15.0", "3.16.1"])
    make_project(public, "ruff", ["0.6.9"])
    mirror.add_index("nightly", serve(nightly), "--not-here", "403")
    mirror.add_index("pypi", serve(public), "--default")
    mirror.run("rules", "pin", "torch*", "nightly")
    mirror.run("rules", "set", "prerelease.torch", "allow")
    requirements = tmp_path / "requirements.in"
    requirements.write_text("torch\nruff\n")
    mirror.sync("-r", str(requirements), "--closure", *TARGET)
    connected = run_resolve(mirror, "-r", str(requirements), *TARGET)
    assert connected.exit_code == 0, connected.stderr
    bundle = tmp_path / "snapshot.sneakernet"
    mirror.run("export", "latest", "-o", str(bundle))

    # Inside the air gap, the bundle goes into an SQLite file, whichever engine exported it.
    airgapped = Mirror(tmp_path / "airgapped.db", dict(mirror.env))
    airgapped.run("import", str(bundle))
    inside = run_resolve(airgapped, "-r", str(requirements), *TARGET)

    assert inside.exit_code == 0, inside.stderr
    assert inside.stdout == connected.stdout
    assert "torch==2.3.0.dev20240219+cu121" in inside.stdout
