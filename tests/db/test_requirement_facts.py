"""Requires-Dist split when a snapshot is written: the stored form, and rows stored before."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text

from db.requirement_facts import SplitRequirement, load_split, split_json, split_requirements
from tests.db.test_schema import _alembic

TEXTS = (
    "Requests[SOCKS,security] >=2.8.1, ==2.8.*; python_version >= '3.8' and extra == \"web\"",
    "plain",
    "pkg @ https://example.invalid/pkg-1.0.tar.gz ; sys_platform == 'linux'",
    "not a requirement!",
)


def test_split_gives_name_extras_specifier_marker_and_direct_reference() -> None:
    socks, plain, direct, broken = split_requirements(TEXTS)

    assert socks == SplitRequirement(
        "requests",
        ("security", "socks"),
        "==2.8.*,>=2.8.1",
        'python_version >= "3.8" and extra == "web"',
        None,
    )
    assert plain == SplitRequirement("plain", (), "", None, None)
    assert direct.direct == 'pkg @ https://example.invalid/pkg-1.0.tar.gz ; sys_platform == "linux"'
    assert broken.error is not None and broken.error.startswith("'not a requirement!': ")


def test_stored_form_reads_back_as_split() -> None:
    assert load_split(split_json(TEXTS)) == split_requirements(TEXTS)
    assert load_split(split_json([])) == ()


def test_upgrade_splits_the_rows_stored_before(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    _alembic(engine, "upgrade", "0002")
    rows = {"a" * 64: list(TEXTS), "b" * 64: [], "c" * 64: list(TEXTS)}
    with engine.begin() as conn:
        for sha, texts in rows.items():
            conn.execute(
                text(
                    "INSERT INTO metadata (sha256, name, version, metadata_version,"
                    " requires_dist, requires_python, provides_extra, dynamic)"
                    " VALUES (:sha, 'a', '1', '2.1', :rd, NULL, '[]', '[]')"
                ),
                {"sha": sha, "rd": json.dumps(texts)},
            )

    _alembic(engine, "upgrade", "head")

    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT sha256, requires_split FROM metadata")).all())
    assert stored == {sha: split_json(texts) for sha, texts in rows.items()}
