"""The named bounds on untrusted input and their one spelling on the command line."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from resolve.clikit import limit_option
from resolve.limits import DEFAULT_LIMITS, LimitExceeded, Limits, parse_limit, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1000", 1000), ("512k", 512 * 1024), ("64MiB", 64 << 20), ("1G", 1 << 30), ("7 B", 7)],
)
def test_sizes_take_binary_units(text: str, expected: int) -> None:
    assert parse_size(text) == expected


def test_an_unknown_limit_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="page-bytes"):
        parse_limit("page-size=1")


def test_exceeded_names_the_limit_and_how_to_raise_it() -> None:
    err = LimitExceeded("the page of foo", "page-bytes", 64 << 20)
    assert err.message == "the page of foo exceeds the limit page-bytes=64MiB"
    assert err.hint is not None and "--limit page-bytes=" in err.hint


def test_the_option_folds_into_one_value() -> None:
    seen: list[Limits] = []

    @click.command()
    @limit_option
    def cmd(limits: Limits) -> None:
        seen.append(limits)

    runner = CliRunner()
    assert runner.invoke(cmd, []).exit_code == 0
    result = runner.invoke(cmd, ["--limit", "page-files=10", "--limit", "page-bytes=1MiB"])
    assert result.exit_code == 0, result.output
    assert seen == [DEFAULT_LIMITS, Limits(page_files=10, page_bytes=1 << 20)]
    bad = runner.invoke(cmd, ["--limit", "nope=1"])
    assert bad.exit_code == 2 and "page-bytes" in bad.output
