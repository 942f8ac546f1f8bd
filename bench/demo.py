"""`make demo`: the case sneakernet exists for, end to end, in well under a minute.

A PyTorch-style nightly index (PEP 503 HTML, dev builds, 403 for the projects it does not host)
sits next to the default index (PEP 691 JSON, stable releases); both are served on loopback by
this process. The commands a user types are run, with a short explanation before each step:
the sync, the failure a 403 causes and the hint that names the rule to set, the rules that make
the choice of index explicit, a failure that names the rule at fault, and the trip into the air
gap (download, export, import, the byte-identical lock, and stock pip installing it with no
index at all). Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from bench.nightly_example import TARGET, _default, _nightly
from tests.fixtures.index_server import serve_in_thread

DEMO_DIR = Path("demo")
# What pip is told about the target, so that the demo installs the same on any machine.
PIP_TARGET = "--python-version 3.11 --platform manylinux_2_17_x86_64 --only-binary :all:"


def _say(text: str) -> None:
    print(textwrap.indent(textwrap.fill(text, 92), "# "), flush=True)


def _run(command: str, env: dict[str, str], *, code: int = 0) -> None:
    """Run ``command`` as a user would (``python -m`` so the checkout's code runs) and show
    its output; stop the demo if it does not end with ``code``."""
    print(f"$ {command}", flush=True)
    program, *args = shlex.split(command)
    result = subprocess.run(
        [sys.executable, "-m", program, *args], env=env, capture_output=True, text=True
    )
    for stream in (result.stdout, result.stderr):
        if stream.strip():
            print(stream.rstrip())
    if result.returncode:
        print(f"[exit code {result.returncode}]")
    print(flush=True)
    if result.returncode != code:
        raise SystemExit(f"demo step ended with exit code {result.returncode}: {command}")


def _fresh_directory() -> None:
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    DEMO_DIR.mkdir()
    (DEMO_DIR / "requirements.in").write_text("torch\nruff\n")


def connected_side(env: dict[str, str]) -> None:
    nightly, default = _nightly(), _default()
    with serve_in_thread(nightly) as nightly_url, serve_in_thread(default) as default_url:
        _say(
            "Two indexes: a nightly index shaped like PyTorch's (dev builds of torch; HTTP 403 "
            "for every project it does not host) listed first, and the default index."
        )
        _run(f"mirror index add nightly {nightly_url}", env)
        _run(f"mirror index add pypi {default_url} --default", env)
        _say(
            "Snapshot what both indexes say about the requirements and their dependencies. "
            "The sync resolves them for the target as it goes: the snapshot completes, and "
            "the exit code says the resolution does not."
        )
        _run(f"mirror sync -r demo/requirements.in --closure {TARGET} --name monday", env, code=1)
        offline(env)
        _say("Fetch the files the lock names, each checked against its hash.")
        _run("mirror download demo/requirements.txt -d demo/wheelhouse", env)


def offline(env: dict[str, str]) -> None:
    _say(
        "resolve reads only the snapshot, never the network. The nightly index answered 403 "
        "for ruff: a wrong password, or its way of saying 'not here'? sneakernet does not "
        "guess; resolve's hint says what to do."
    )
    _run(f"resolve -r demo/requirements.in {TARGET}", env, code=1)
    _say("The index says 403 for what it lacks: record that as a rule (a versioned row).")
    _run("mirror rules set index.nightly.not-here 403", env)
    _say(
        "A merged, best-version view (uv's unsafe-best-match) now shows the trap: the stable "
        "torch of the default index shadows the nightly build."
    )
    _run(f"resolve -r demo/requirements.in {TARGET} --index-strategy unsafe-best-match -q", env)
    _say("Say once where torch comes from, for every package of the family.")
    _run("mirror rules pin 'torch*' nightly", env)
    _run("mirror rules pin pytorch-triton nightly", env)
    _run("mirror rules set prerelease.torch allow", env)
    _say(
        "Under these rules the resolution needs what the sync, resolving under the old ones, "
        "never reached: resolve never guesses, it names what to sync and exits 4."
    )
    _run(f"resolve -r demo/requirements.in {TARGET} -o demo/requirements.txt", env, code=4)
    _say("Back on the connected side, sync what the hint names; the rest is carried over.")
    _run(
        "mirror sync -r demo/requirements.in pytorch-triton 'torch==2.3.0.dev20240218+cu121' "
        f"--closure {TARGET} --name tuesday --quiet",
        env,
    )
    _run(f"resolve -r demo/requirements.in {TARGET} -o demo/requirements.txt", env)
    _say("Every decision is explained: each version on each index, and why it is (not) used.")
    _run(f"resolve --explain torch {TARGET}", env)
    _say("Asking for what the rules exclude fails, and the hint names the rule at fault.")
    _run(f"resolve 'torch==2.2.0' {TARGET}", env, code=1)


def air_gap(env: dict[str, str]) -> None:
    _say("Into the air gap: the snapshot, with its rules, as one verified file.")
    _run("mirror export latest -o demo/snapshot.sneakernet", env)
    _say("Inside: a fresh database, no index server, the same command, the same lock.")
    airgapped = {**env, "MIRROR_DB": str(DEMO_DIR / "airgapped.db")}
    _run("mirror import demo/snapshot.sneakernet", airgapped)
    lock = DEMO_DIR / "requirements.txt"
    connected_lock = lock.read_bytes()
    lock.unlink()  # made again from scratch
    _run(f"resolve -r demo/requirements.in {TARGET} -o demo/requirements.txt -q", airgapped)
    same = lock.read_bytes() == connected_lock
    print(f"the lock made inside the air gap is {'byte-identical' if same else 'DIFFERENT'}\n")
    if not same:
        raise SystemExit("demo failed: the air-gapped lock differs")
    _say("Stock pip installs the lock from the wheelhouse, every hash checked, no index at all.")
    _run(
        "pip install --quiet --no-index --find-links demo/wheelhouse --require-hashes "
        f"-r demo/requirements.txt --target demo/site {PIP_TARGET}",
        airgapped,
    )
    installed = sorted(p.name for p in (DEMO_DIR / "site").glob("*.dist-info"))
    print("installed:", ", ".join(installed), "\n")


def main() -> None:
    _fresh_directory()
    # The demo uses only its own indexes, whatever this machine's pip configuration says.
    env = {
        **os.environ,
        "MIRROR_DB": str(DEMO_DIR / "mirror.db"),
        "PIP_CONFIG_FILE": os.devnull,
        "NETRC": os.devnull,
    }
    connected_side(env)
    air_gap(env)
    _say(
        "Next: `MIRROR_DB=demo/mirror.db mirror serve --files demo/wheelhouse` serves the "
        "snapshot to pip and uv; `mirror --help` and `resolve --help` have examples for every "
        "command."
    )


if __name__ == "__main__":
    main()
