"""One reading and one order of version text (db.versions), shared by the sync's metadata
selection, the candidates, the hints and ``--explain``."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from db.versions import parse_version, version_sort_key

_TEXTS = ["2.0", "1.10", "1.9", "1.0.0", "1.0", "1.0rc1", "1!0.1", "banana", "1.0-foo-bar", ""]


def test_parse_version_is_none_for_text_pep_440_rejects() -> None:
    assert parse_version("1.0_rc1") == Version("1.0rc1")  # PEP 440 normalisation
    assert parse_version("1.0-foo-bar") is None
    assert parse_version("banana") is None


def test_newest_first_puts_invalid_text_last() -> None:
    ordered = sorted(_TEXTS, key=version_sort_key, reverse=True)

    assert ordered == [
        "1!0.1",
        "2.0",
        "1.10",
        "1.9",
        "1.0.0",  # ties with "1.0": a stable sort keeps the input order
        "1.0",
        "1.0rc1",
        "banana",
        "1.0-foo-bar",
        "",
    ]


def test_ascending_puts_invalid_text_first() -> None:
    assert sorted(["1.10", "x", "1.9", "a"], key=version_sort_key) == ["a", "x", "1.9", "1.10"]


@given(st.lists(st.sampled_from(_TEXTS) | st.text(max_size=6)))
def test_valid_versions_keep_pep_440_order(texts: list[str]) -> None:
    ordered = sorted(texts, key=version_sort_key)
    valid = [t for t in ordered if parse_version(t) is not None]
    invalid = [t for t in ordered if parse_version(t) is None]

    assert ordered == invalid + valid
    assert [Version(t) for t in valid] == sorted(Version(t) for t in valid)
    assert invalid == sorted(invalid)
