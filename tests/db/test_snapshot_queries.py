"""Reading snapshots: find, details, diff, delete with garbage collection, content digest."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from db.blobs import get_blob
from db.digests import content_digest
from db.indexes import add_index
from db.records import FetchedPage
from db.schema import blob, file, metadata, page, snapshot, snapshot_metadata, snapshot_page
from db.snapshot_queries import (
    UnknownSnapshot,
    delete_snapshot,
    diff_snapshots,
    find_snapshot,
    list_snapshots,
    snapshot_details,
)
from tests.db import new_engine, sdist, wheel, write_snapshot


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return new_engine(tmp_path / "mirror.db")


def _counts(engine: Engine) -> dict[str, int]:
    tables = (blob, file, metadata, page, snapshot, snapshot_metadata, snapshot_page)
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables
        }


S1 = {
    ("main", "alpha"): [wheel("alpha", "1.0"), sdist("alpha", "1.0"), wheel("alpha", "1.1")],
    ("main", "beta"): [wheel("beta", "2.0")],
    ("extra", "alpha"): [wheel("alpha", "1.0")],
}
S2 = {
    ("main", "alpha"): [
        wheel("alpha", "1.0"),
        wheel("alpha", "1.1", yanked=True),
        wheel("alpha", "1.2"),
    ],
    ("main", "gamma"): [wheel("gamma", "0.1")],
    ("extra", "alpha"): [wheel("alpha", "1.0")],
}
S3 = {
    **S2,
    ("main", "alpha"): [wheel("alpha", "1.0"), wheel("alpha", "1.1"), wheel("alpha", "1.2")],
}


# -- finding -------------------------------------------------------------------------------


def test_find_by_name_latest_and_digest_prefix(engine: Engine) -> None:
    d1 = write_snapshot(engine, "first", S1)
    d2 = write_snapshot(engine, "second", S2)
    write_snapshot(engine, "unfinished", S3, complete=False)
    assert d1 and d2 and d1 != d2
    with engine.connect() as conn:
        assert [s.name for s in list_snapshots(conn)] == ["first", "second", "unfinished"]
        assert [s.state for s in list_snapshots(conn)] == ["complete", "complete", "building"]
        assert find_snapshot(conn, "first").digest == d1
        # `latest` is the newest *complete* snapshot, never one still building.
        assert find_snapshot(conn, "latest").name == "second"
        assert find_snapshot(conn, d1[:8]).name == "first"
        assert find_snapshot(conn, d2[:20].upper()).name == "second"
        assert find_snapshot(conn, "unfinished", complete_only=False).state == "building"
        with pytest.raises(UnknownSnapshot, match="building, not complete") as info:
            find_snapshot(conn, "unfinished")
        assert "resume" in (info.value.hint or "")
        with pytest.raises(UnknownSnapshot, match="no snapshot named"):
            find_snapshot(conn, d1[:7])  # too short to be taken as a digest prefix
        with pytest.raises(UnknownSnapshot) as info:
            find_snapshot(conn, "nosuch")
        assert info.value.exit_code == 2
        assert "first, second, unfinished" in (info.value.hint or "")


def test_latest_with_no_complete_snapshot(engine: Engine) -> None:
    write_snapshot(engine, "unfinished", S1, complete=False)
    with engine.connect() as conn, pytest.raises(UnknownSnapshot, match="no complete snapshot"):
        find_snapshot(conn, "latest")


def test_details_count_pages_by_outcome(engine: Engine) -> None:
    with engine.begin() as conn:
        add_index(conn, name="main", url="http://127.0.0.1:1/main/")
        add_index(conn, name="extra", url="http://127.0.0.1:1/extra/")
    pages = {
        **S1,
        ("extra", "beta"): FetchedPage(status=404),
        ("extra", "gamma"): FetchedPage(status=0, error="ClientConnectorError: refused"),
    }
    write_snapshot(
        engine, "one", pages, metadata=[("main", "alpha-1.0-py3-none-any.whl", b"Name: alpha")]
    )
    with engine.connect() as conn:
        details = snapshot_details(conn, find_snapshot(conn, "one"))
    assert details["pages"] == 5
    assert details["indexes"] == {
        "extra": {"failed": 1, "files": 1, "found": 1, "status 404": 1},
        "main": {"files": 4, "found": 2, "metadata pep658": 1},
    }


# -- diff ----------------------------------------------------------------------------------


def test_diff_reports_every_kind_of_change(engine: Engine) -> None:
    write_snapshot(engine, "s1", S1)
    write_snapshot(engine, "s2", S2)
    write_snapshot(engine, "s3", S3)
    with engine.connect() as conn:
        s1, s2, s3 = (find_snapshot(conn, n) for n in ("s1", "s2", "s3"))
        forward = diff_snapshots(conn, s1, s2).as_json()
        unyank = diff_snapshots(conn, s2, s3).as_json()
        same = diff_snapshots(conn, s2, s2).as_json()
    assert forward == {
        "projects_added": ["gamma (main)"],
        "projects_removed": ["beta (main)"],
        "versions_added": ["alpha 1.2 (main)", "gamma 0.1 (main)"],
        "versions_removed": ["beta 2.0 (main)"],
        "files_added": ["alpha-1.2-py3-none-any.whl (main)", "gamma-0.1-py3-none-any.whl (main)"],
        "files_removed": ["alpha-1.0.tar.gz (main)", "beta-2.0-py3-none-any.whl (main)"],
        "yanked": ["alpha-1.1-py3-none-any.whl (main)"],
        "unyanked": [],
        "unknown": [],
        "metadata": [],
    }
    assert unyank["unyanked"] == ["alpha-1.1-py3-none-any.whl (main)"]
    assert all(not v for k, v in unyank.items() if k != "unyanked")
    assert all(not v for v in same.values())


def test_failed_page_is_unknown_not_removed(engine: Engine) -> None:
    with engine.begin() as conn:
        add_index(conn, name="main", url="http://127.0.0.1:1/main/")
        add_index(conn, name="extra", url="http://127.0.0.1:1/extra/")
        add_index(conn, name="corp", url="http://127.0.0.1:1/corp/", not_here=[403])
    before = {
        **S1,
        ("corp", "alpha"): [wheel("alpha", "1.0")],
        ("corp", "beta"): [wheel("beta", "1")],
    }
    write_snapshot(engine, "before", before)
    after = {
        ("main", "alpha"): FetchedPage(status=0, error="ClientConnectorError: refused"),
        ("main", "beta"): FetchedPage(
            status=200, content_type="text/html", body=b"<input type=password>", error="login page"
        ),
        # 403 on an index without a not-here policy: auth trouble, not an answer.
        ("extra", "alpha"): FetchedPage(status=403),
        # 403 on an index whose policy says it means "not here": the project is gone there.
        ("corp", "alpha"): FetchedPage(status=403),
        ("corp", "beta"): FetchedPage(status=503, error="HTTP 503 after 4 attempt(s)"),
    }
    write_snapshot(engine, "after", after)
    with engine.connect() as conn:
        diff = diff_snapshots(conn, find_snapshot(conn, "before"), find_snapshot(conn, "after"))
        back = diff_snapshots(conn, find_snapshot(conn, "after"), find_snapshot(conn, "before"))
    assert diff.unknown == ["beta (corp)", "alpha (extra)", "alpha (main)", "beta (main)"]
    assert diff.projects_removed == ["alpha (corp)"]
    assert diff.versions_removed == ["alpha 1.0 (corp)"]
    assert diff.files_removed == ["alpha-1.0-py3-none-any.whl (corp)"]
    assert not diff.projects_added and not diff.yanked
    assert back.unknown == diff.unknown
    assert back.projects_added == ["alpha (corp)"]
    assert not back.projects_removed


# -- delete --------------------------------------------------------------------------------


def test_delete_collects_what_only_the_snapshot_used(engine: Engine) -> None:
    shared_page = [wheel("beta", "1.0")]
    write_snapshot(
        engine,
        "old",
        {
            ("main", "alpha"): [wheel("alpha", "1.0"), sdist("alpha", "1.0")],
            ("main", "beta"): shared_page,
        },
        metadata=[
            ("main", "alpha-1.0-py3-none-any.whl", b"Name: alpha\nVersion: 1.0\n"),
            ("main", "beta-1.0-py3-none-any.whl", b"Name: beta\nVersion: 1.0\n"),
        ],
    )
    new_digest = write_snapshot(
        engine,
        "new",
        {("main", "alpha"): [wheel("alpha", "2.0")], ("main", "beta"): shared_page},
        metadata=[("main", "beta-1.0-py3-none-any.whl", b"Name: beta\nVersion: 1.0\n")],
    )
    assert _counts(engine) == {
        "blob": 5,  # three page bodies, two METADATA files
        "file": 4,
        "metadata": 2,
        "page": 3,  # beta's page is shared
        "snapshot": 2,
        "snapshot_metadata": 3,
        "snapshot_page": 4,
    }
    with engine.begin() as conn:
        removed = delete_snapshot(conn, find_snapshot(conn, "old"))
    assert removed == {"pages": 1, "files": 2, "blobs": 2}
    assert _counts(engine) == {
        "blob": 3,
        "file": 2,
        "metadata": 1,
        "page": 2,
        "snapshot": 1,
        "snapshot_metadata": 1,
        "snapshot_page": 2,
    }
    with engine.connect() as conn:
        survivor = find_snapshot(conn, "new")
        assert survivor.digest == new_digest == content_digest(conn, survivor.id)
        for (digest,) in conn.execute(select(blob.c.sha256)):
            get_blob(conn, digest)
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        assert find_snapshot(conn, "latest").name == "new"


def test_delete_last_snapshot_leaves_only_indexes(engine: Engine) -> None:
    write_snapshot(engine, "only", S1, metadata=[("main", "beta-2.0-py3-none-any.whl", b"x")])
    write_snapshot(engine, "building", S2, complete=False)
    with engine.begin() as conn:
        delete_snapshot(conn, find_snapshot(conn, "building", complete_only=False))
        delete_snapshot(conn, find_snapshot(conn, "only"))
    assert set(_counts(engine).values()) == {0}
    with engine.connect() as conn:
        assert conn.execute(text('SELECT count(*) FROM "index"')).scalar() == 2


# -- content digest ------------------------------------------------------------------------


def _digest_in_fresh_db(path: Path, order: list[str], noise: bool, yank: bool = False) -> str:
    engine = new_engine(path)
    with engine.begin() as conn:
        if noise:  # shift every row id
            add_index(conn, name="zzz", url="http://127.0.0.1:1/zzz/")
        for name in order:
            add_index(conn, name=name, url=f"http://127.0.0.1:1/{name}/")
    if noise:
        write_snapshot(engine, "earlier", {("zzz", "other"): [wheel("other", "9")]})
    pages = dict(S2)
    if yank:
        pages[("main", "gamma")] = [wheel("gamma", "0.1", yanked=True)]
    items = list(pages.items())
    meta = [
        ("main", "alpha-1.0-py3-none-any.whl", b"Name: alpha\nVersion: 1.0\n"),
        ("extra", "alpha-1.0-py3-none-any.whl", b"Name: alpha\nVersion: 1.0\n"),
    ]
    if order[0] != "main":
        items.reverse()
        meta.reverse()
    digest = write_snapshot(engine, f"named-{path.stem}", dict(items), metadata=meta)
    engine.dispose()
    assert digest is not None
    return digest


def test_content_digest_is_machine_independent(tmp_path: Path) -> None:
    one = _digest_in_fresh_db(tmp_path / "one.db", ["main", "extra"], noise=False)
    two = _digest_in_fresh_db(tmp_path / "two.db", ["extra", "main"], noise=True)
    assert one == two
    changed = _digest_in_fresh_db(tmp_path / "three.db", ["main", "extra"], noise=False, yank=True)
    assert changed != one
