"""The README's worked example is the output of `python -m bench.nightly_example`, and its
table for uv and pip-tools users names only flags that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.nightly_example import transcript
from resolve.cli import command

README = Path(__file__).parent.parent / "README.md"


@pytest.mark.slow
def test_nightly_example_transcript_matches_the_readme(
    clean_env: dict[str, str | None],
) -> None:
    text = README.read_text()
    match = re.search(
        r"<!-- nightly-example:start -->\n```\n(.*?)```\n<!-- nightly-example:end -->",
        text,
        re.S,
    )
    assert match is not None, "the README lost its nightly example markers"
    assert transcript().rstrip() + "\n" == match[1]


def test_every_flag_in_the_coming_from_uv_table_exists() -> None:
    """The README's table for uv and pip-tools users names only flags `resolve` has."""
    section = README.read_text().split("## Coming from uv or pip-tools", 1)[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    ours = [row.strip("|").split("|")[2] for row in rows[1:]]  # the header row is skipped
    flags = {
        word
        for cell in ours
        for code in re.findall(r"`([^`]+)`", cell)
        for word in code.split()
        if word.startswith("-")
    }
    known = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    assert len(flags) > 20
    assert sorted(flags - known) == []
