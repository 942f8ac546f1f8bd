"""The "not here" rule every layer asks (db.records.means_not_here) and the stored form of an
index's not-here list."""

from __future__ import annotations

import pytest

from db.index_config import IndexConfig, means_not_here, not_here_statuses, not_here_text


@pytest.mark.parametrize(
    ("status", "policy", "expected"),
    [
        (404, (), True),
        (410, (), True),
        (403, (), False),
        (403, (403,), True),
        (401, (403,), False),
        (200, (200,), True),  # the policy is taken at its word
        (500, (), False),
    ],
)
def test_means_not_here(status: int, policy: tuple[int, ...], expected: bool) -> None:
    assert means_not_here(status, policy) is expected
    config = IndexConfig(
        1, "one", "http://127.0.0.1:9/simple/", "simple", 1, True, False, policy, None
    )
    assert config.means_not_here(status) is expected


def test_the_stored_not_here_list_round_trips() -> None:
    assert not_here_text([403, 401, 403]) == "401,403"
    assert not_here_statuses("401,403") == (401, 403)
    assert not_here_statuses(" 403 , 401,,") == (401, 403)
    assert not_here_statuses("") == () == not_here_statuses(None)
    assert not_here_statuses(not_here_text([])) == ()
