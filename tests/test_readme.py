"""The README's worked example is the output of `python -m bench.nightly_example`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.nightly_example import transcript

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
