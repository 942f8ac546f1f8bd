"""The README's worked example: a PyTorch-style nightly index next to the default index.

The nightly index is shaped like the real one (PEP 503 HTML, local-version dev builds such as
``2.3.0.dev20240219+cu121``, 403 for projects it does not host); the default index is PEP 691
JSON with the stable releases. Both are served on loopback; the commands a user types are run
and their output printed, with ports and digests replaced by stable placeholders so the
transcript can be compared with the README (tests/test_readme.py does).

    python -m bench.nightly_example                  # print the transcript
    python -m bench.nightly_example --write-readme   # refresh the README's copy
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.fixtures.index_server import FixtureIndex, make_project, serve_in_thread

__all__ = ["transcript"]

_TAG = "cp311-cp311-manylinux_2_17_x86_64"
TARGET = "--python-version 3.11 --python-platform linux"


def _nightly() -> FixtureIndex:
    index = FixtureIndex()
    triton = "pytorch-triton==3.0.0+git1a2b3c4d"
    make_project(
        index,
        "torch",
        ["2.3.0.dev20240218+cu121", "2.3.0.dev20240219+cu121"],
        deps=[triton],
        tag=_TAG,
        format="html",
    )
    make_project(index, "pytorch-triton", ["3.0.0+git1a2b3c4d"], tag=_TAG, format="html")
    # The nightly index answers 403, not 404, for a project it does not host.
    index.add_project("ruff", status=403)
    return index


def _default() -> FixtureIndex:
    index = FixtureIndex()
    make_project(index, "torch", ["2.1.2", "2.2.0"], tag=_TAG)
    make_project(index, "ruff", ["0.6.9"], tag="py3-none-manylinux_2_17_x86_64")
    return index


def _step(command: str, env: dict[str, str], replacements: dict[str, str]) -> list[str]:
    args = shlex.split(command)
    result = subprocess.run(
        [sys.executable, "-m", *args],
        env=env,
        capture_output=True,
        text=True,
    )
    text = f"$ {command}\n{result.stdout}{result.stderr}"
    for real, shown in replacements.items():
        text = text.replace(real, shown)
    # Digests depend on the index URLs, and the ports are random.
    text = re.sub(r"\b[0-9a-f]{64}\b", "…", text)
    text = re.sub(r"\b[0-9a-f]{12}\b", "…", text)
    lines: list[str] = []
    lines += [line.rstrip() for line in text.rstrip().splitlines()]
    if result.returncode:
        lines.append(f"[exit code {result.returncode}]")
    return [*lines, ""]


def transcript() -> str:
    """Run the example in a temporary directory; return what a user would see."""
    with tempfile.TemporaryDirectory() as home:
        db = Path(home) / "mirror.db"
        env = {
            **os.environ,
            "MIRROR_DB": str(db),
            "PIP_CONFIG_FILE": os.devnull,
            "NETRC": str(Path(home) / "no-netrc"),
        }
        nightly, default = _nightly(), _default()
        with serve_in_thread(nightly) as nightly_url, serve_in_thread(default) as default_url:
            shown = {
                nightly_url: "http://127.0.0.1:8081/whl/nightly/cu121/",
                default_url: "http://127.0.0.1:8080/simple/",
            }
            commands = [
                f"mirror index add nightly {nightly_url} --not-here 403",
                f"mirror index add pypi {default_url} --default",
                f"mirror sync torch ruff --closure {TARGET} --name nightly-demo --quiet",
                # What a merged, best-version view does: the stable torch shadows the nightly.
                f"resolve torch ruff {TARGET} --index-strategy unsafe-best-match -q",
                "mirror rules pin 'torch*' nightly",
                "mirror rules pin pytorch-triton nightly",
                "mirror rules set prerelease.torch allow",
                f"resolve torch ruff {TARGET} -q",
                f"resolve --explain torch {TARGET}",
                # A failure names the rule at fault.
                f"resolve 'torch==2.2.0' {TARGET}",
            ]
            lines: list[str] = []
            for command in commands:
                lines += _step(command, env, shown)
    return "\n".join(lines)


def write_readme(readme: Path = Path("README.md")) -> None:
    """Replace the transcript between the README's markers with a fresh one."""
    text = readme.read_text()
    block = re.compile(
        r"(<!-- nightly-example:start -->\n```\n).*?(```\n<!-- nightly-example:end -->)", re.S
    )
    fresh = transcript().rstrip() + "\n"
    readme.write_text(block.sub(lambda m: m[1] + fresh + m[2], text))


if __name__ == "__main__":
    if "--write-readme" in sys.argv:
        write_readme()
    else:
        print(transcript())
