"""`make demo`: the whole trip end to end, against two indexes served on loopback.

An "internal" index (PEP 503 HTML, like a private devpi or Artifactory) and a "pypi" index
(PEP 691 JSON, like the public one) are started in this process with real wheels; then the
commands a user would type are run and their output shown: index setup, two syncs and their
diff, an offline resolve, the wheelhouse download, the export, and the import and resolve on
the "air-gapped" side, whose lock is compared byte for byte. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from tests.fixtures.dists import build_wheel
from tests.fixtures.index_server import FixtureIndex, make_project, serve_in_thread

DEMO_DIR = Path("demo")


def _public_index() -> FixtureIndex:
    index = FixtureIndex()
    make_project(
        index,
        "requests",
        ["2.31.0", "2.32.3"],
        deps={
            "2.31.0": ["urllib3<3,>=1.21.1", "idna<4,>=2.5", "certifi>=2017.4.17"],
            "2.32.3": [
                "urllib3<3,>=1.21.1",
                "idna<4,>=2.5",
                "certifi>=2017.4.17",
                "PySocks!=1.5.7,>=1.5.6; extra == 'socks'",
            ],
        },
    )
    make_project(index, "urllib3", ["2.2.2", "2.2.3"])
    make_project(index, "idna", ["3.7", "3.8"])
    make_project(index, "certifi", ["2024.7.4", "2024.8.30"])
    make_project(index, "pysocks", ["1.7.1"])
    make_project(
        index,
        "rich",
        ["13.7.1", "13.8.0"],
        deps={
            "13.8.0": [
                "markdown-it-py>=2.2.0",
                "pygments<3.0.0,>=2.13.0",
                "typing-extensions>=4.0.0; python_version < '3.9'",
            ],
        },
    )
    make_project(index, "markdown-it-py", ["3.0.0"], deps={"3.0.0": ["mdurl~=0.1"]})
    make_project(index, "mdurl", ["0.1.2"])
    make_project(index, "pygments", ["2.18.0"])
    make_project(index, "typing-extensions", ["4.12.2"])
    # A look-alike of the internal package, as a dependency-confusion attacker would upload.
    make_project(index, "acme-utils", ["99.0"])
    return index


def _internal_index() -> FixtureIndex:
    index = FixtureIndex()
    make_project(
        index, "acme-utils", ["1.0", "1.1"], deps={"1.1": ["requests[socks]>=2.31"]}, format="html"
    )
    return index


def _run(command: str, env: dict[str, str]) -> None:
    print(f"$ {command}", flush=True)
    args = shlex.split(command)
    result = subprocess.run(
        [sys.executable, "-m", args[0], *args[1:]], env=env, capture_output=True, text=True
    )
    for stream in (result.stdout, result.stderr):
        if stream.strip():
            print(stream.rstrip())
    print(flush=True)
    if result.returncode != 0:
        raise SystemExit(f"demo step failed with exit code {result.returncode}: {command}")


def main() -> None:
    DEMO_DIR.mkdir(exist_ok=True)
    db = DEMO_DIR / "mirror.db"
    for pattern in ("mirror.db*", "airgapped.db*", "*.txt", "snapshot.sneakernet"):
        for stale in DEMO_DIR.glob(pattern):
            stale.unlink()
    (DEMO_DIR / "requirements.in").write_text("acme-utils\nrich>=13\n")
    # The demo uses only its own indexes, whatever this machine's pip configuration says.
    env = {**os.environ, "MIRROR_DB": str(db), "PIP_CONFIG_FILE": os.devnull}
    public, internal = _public_index(), _internal_index()
    with serve_in_thread(internal) as internal_url, serve_in_thread(public) as public_url:
        _run(f"mirror index add internal {internal_url}", env)
        _run(f"mirror index add pypi {public_url} --default", env)
        _run("mirror index list", env)
        _run("mirror sync requests -r demo/requirements.in --closure --name first", env)
        _run("mirror snapshot list", env)
        _run("mirror snapshot show latest", env)
        # The world moves on: a release is yanked, another published.
        public.projects["idna"].files[-1].yanked = "broken wheel"
        public.projects["certifi"].add(build_wheel("certifi", "2024.12.14"))
        _run("mirror sync requests -r demo/requirements.in --closure --name second", env)
        _run("mirror snapshot diff first second", env)
        # Offline from here on: the lock comes from the snapshot alone. acme-utils comes from
        # the internal index, whatever version the public one offers (first-index).
        _run("resolve -r demo/requirements.in -o demo/requirements.txt", env)
        _run("resolve --explain acme-utils", env)
        _run("mirror download demo/requirements.txt -d demo/wheelhouse --quiet", env)
        _run("mirror export latest -o demo/snapshot.sneakernet", env)
    # The air-gapped side: a fresh database, no index server, the same lock.
    airgapped = {**env, "MIRROR_DB": str(DEMO_DIR / "airgapped.db")}
    connected_lock = (DEMO_DIR / "requirements.txt").read_bytes()
    (DEMO_DIR / "requirements.txt").unlink()  # the same command, from scratch
    _run("mirror import demo/snapshot.sneakernet", airgapped)
    _run("resolve -r demo/requirements.in -o demo/requirements.txt", airgapped)
    same = (DEMO_DIR / "requirements.txt").read_bytes() == connected_lock
    print(f"the lock made inside the air gap is {'byte-identical' if same else 'DIFFERENT'}\n")
    print((DEMO_DIR / "requirements.txt").read_text())
    print(
        f"Serve it to pip or uv with `MIRROR_DB={db} mirror serve --files demo/wheelhouse`; "
        f"explore with `MIRROR_DB={db} mirror --help` and `resolve --help`."
    )
    if not same:
        raise SystemExit("demo failed: the air-gapped lock differs")


if __name__ == "__main__":
    main()
