"""Fixtures the end-to-end tests of ``resolve`` share."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Mirror, Serve
from tests.resolve.endtoend import add_indexes, shop_index


@pytest.fixture
def shop(mirror: Mirror, serve: Serve, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Mirror:
    """The shop index synced in full; the working directory is the test's tmp_path."""
    index = shop_index()
    add_indexes(mirror, serve, pypi=index)
    mirror.sync(*sorted(index.projects), "--versions", "all", "--quiet")
    monkeypatch.chdir(tmp_path)
    return mirror
