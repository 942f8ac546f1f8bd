"""`mirror export` / `mirror import`: snapshots synced from loopback indexes, carried in one
file to another database, checked whole before anything is written, merged by content."""

from __future__ import annotations

import hashlib
import json
import random
import struct
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import zstandard

from db.index_config import IndexConfig
from db.read.snapshot_reader import ProjectRecord, SnapshotReader
from db.schema import rule, rule_set
from tests.conftest import Mirror, Serve
from tests.db import assert_error, db_dump, new_engine
from tests.fixtures.index_server import FixtureIndex, make_project

# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture
def indexes() -> tuple[FixtureIndex, FixtureIndex]:
    one, two = FixtureIndex(), FixtureIndex()
    make_project(one, "foo", ["1.0", "2.0"], deps=["bar>=1"], sdist=True)
    make_project(one, "bar", ["1.0"])
    make_project(two, "foo", ["2.0"], format="html")
    return one, two


@pytest.fixture
def source(mirror: Mirror, serve: Serve, indexes: tuple[FixtureIndex, FixtureIndex]) -> Mirror:
    """Two snapshots: s2 sees a new foo release on index one; the other pages are shared."""
    one, two = indexes
    mirror.add_index("one", serve(one))
    mirror.add_index("two", serve(two))
    mirror.sync("foo", "bar", "--name", "s1")
    make_project(one, "foo", ["1.0", "2.0", "3.0"], deps=["bar>=1"], sdist=True)
    mirror.sync("foo", "bar", "--name", "s2")
    return mirror


def other_db(tmp_path: Path, mirror: Mirror, name: str = "target.db") -> Mirror:
    return Mirror(tmp_path / name, dict(mirror.env))


@pytest.fixture
def target(tmp_path: Path, source: Mirror) -> Mirror:
    return other_db(tmp_path, source)


def export(mirror: Mirror, path: Path, *snaps: str) -> list[list[str]]:
    out = mirror.run("export", *snaps, "-o", str(path)).stdout
    return [line.split("\t") for line in out.splitlines()]


def count(mirror: Mirror, table: str) -> int:
    return int(mirror.scalar(f'SELECT count(*) FROM "{table}"'))


def digests(mirror: Mirror) -> dict[str, str]:
    return dict(mirror.sql("SELECT name, digest FROM snapshot ORDER BY id"))


def read_snapshot(db: Path, snap: str) -> tuple[list[IndexConfig], list[ProjectRecord]]:
    """Everything `resolve` can see of a snapshot, local row ids left out."""

    def local(config: IndexConfig) -> IndexConfig:
        return replace(config, id=0)

    with SnapshotReader.open(str(db), snap) as reader:
        projects = [reader.project(name) for name in ("foo", "bar", "not-synced")]
        return [local(i) for i in reader.indexes()], [
            replace(p, pages=tuple(replace(page, index=local(page.index)) for page in p.pages))
            for p in projects
        ]


# --- the round trip ---------------------------------------------------------------------------


def test_round_trip_keeps_every_snapshot_as_it_was(
    source: Mirror, target: Mirror, tmp_path: Path
) -> None:
    bundle = tmp_path / "mirror.snb"
    printed = export(source, bundle, "s1", "s2")

    assert printed[0] == ["file", hashlib.sha256(bundle.read_bytes()).hexdigest(), str(bundle)]
    assert sorted(printed[1:]) == sorted(["snapshot", d, n] for n, d in digests(source).items())
    result = target.run("import", str(bundle))
    assert "imported snapshot s1" in result.stderr and "created index one" in result.stderr

    assert digests(target) == digests(source)
    for snap in ("s1", "s2", "latest"):
        assert target.json("snapshot", "show", snap) == source.json("snapshot", "show", snap)
        assert read_snapshot(target.db, snap) == read_snapshot(source.db, snap)
    found = read_snapshot(target.db, "s2")[1]
    assert [len(page.files) for page in found[0].pages] == [6, 1]  # foo: 3 wheels + 3 sdists
    assert found[0].pages[0].files[0].metadata is not None  # core metadata came along
    assert not found[2].in_snapshot
    assert target.json("index", "list") == source.json("index", "list")


def test_export_is_byte_identical_every_time_and_from_an_imported_copy(
    source: Mirror, target: Mirror, tmp_path: Path
) -> None:
    first, again, reordered, copied = (tmp_path / f"{n}.snb" for n in "abcd")
    export(source, first, "s1", "s2")
    export(source, again, "s1", "s2")
    export(source, reordered, "s2", "s1", "s1")
    target.run("import", str(first))
    export(target, copied, "s1", "s2")

    assert first.read_bytes() == again.read_bytes() == reordered.read_bytes()
    assert copied.read_bytes() == first.read_bytes()
    # Plain zstd: the bundle can be inspected with standard tools.
    inside = zstandard.ZstdDecompressor().decompress(first.read_bytes()[:-TRAILER])
    assert inside.startswith(b"sneakernet-bundle 1\n{")


def test_importing_again_changes_nothing_and_says_so(
    source: Mirror, target: Mirror, tmp_path: Path
) -> None:
    bundle = tmp_path / "mirror.snb"
    export(source, bundle, "s1", "s2")
    target.run("import", str(bundle))
    before = db_dump(target.db)

    result = target.run("import", str(bundle))
    again = target.json("import", str(bundle))

    assert "nothing to import" in result.stderr
    assert "skipped snapshot s1: already here as s1" in result.stderr
    assert again["changed"] is False and again["imported"] == [] and again["added"] == {}
    assert [s["name"] for s in again["skipped"]] == ["s1", "s2"]
    assert db_dump(target.db) == before


def test_snapshots_sharing_pages_travel_and_land_once(
    source: Mirror, target: Mirror, tmp_path: Path
) -> None:
    both = tmp_path / "both.snb"
    export(source, both, "s1", "s2")
    shared = source.scalar(
        "SELECT count(*) FROM snapshot_page a JOIN snapshot_page b ON a.page_id = b.page_id "
        "WHERE a.snapshot_id < b.snapshot_id"
    )
    assert shared == 3  # bar on both indexes and foo on index two did not change

    summary = target.json("import", str(both))

    tables = ("page", "file", "blob", "metadata", "snapshot_page", "snapshot_metadata")
    assert {t: count(target, t) for t in tables} == {t: count(source, t) for t in tables}
    assert summary["added"]["page"] == count(source, "page") == 5


def test_a_later_bundle_adds_only_what_is_new(
    source: Mirror, target: Mirror, tmp_path: Path
) -> None:
    first, both = tmp_path / "first.snb", tmp_path / "both.snb"
    export(source, first, "s1")
    export(source, both, "s1", "s2")
    target.run("import", str(first))
    pages_before = count(target, "page")

    summary = target.json("import", str(both))

    assert [s["name"] for s in summary["imported"]] == ["s2"]
    assert [s["name"] for s in summary["skipped"]] == ["s1"]
    assert summary["indexes_created"] == []
    assert summary["added"]["page"] == count(target, "page") - pages_before == 1
    for table in ("page", "file", "blob", "metadata", "index"):
        assert count(target, table) == count(source, table), table
    assert target.json("snapshot", "show", "latest")["name"] == "s2"


def test_a_taken_name_gets_a_suffix(source: Mirror, tmp_path: Path) -> None:
    s1, s2 = tmp_path / "s1.snb", tmp_path / "s2.snb"
    export(source, s1, "s1")
    export(source, s2, "s2")
    clash = other_db(tmp_path, source, "clash.db")
    clash.run("import", str(s1))
    _rename_snapshot(clash, "s1", "s2")  # another snapshot is called s2 here

    result = clash.run("import", str(s2))

    assert "imported snapshot s2 as s2-2 (the name s2 is taken here)" in result.stderr
    assert digests(clash) == {"s2": digests(source)["s1"], "s2-2": digests(source)["s2"]}


def _rename_snapshot(mirror: Mirror, old: str, new: str) -> None:
    engine = new_engine(mirror.db)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE snapshot SET name = ? WHERE name = ?", (new, old))
    engine.dispose()


# --- indexes ---------------------------------------------------------------------------------


def test_an_index_name_taken_by_another_url_is_refused_and_nothing_changes(
    source: Mirror, target: Mirror, tmp_path: Path
) -> None:
    bundle = tmp_path / "mirror.snb"
    export(source, bundle, "s2")
    target.add_index("two", "http://127.0.0.1:9/elsewhere/simple/", check=False)
    before = db_dump(target.db)

    result = target.run("import", str(bundle), code=2)

    block = assert_error(result, 2, str(bundle), "'two'", "elsewhere")
    assert "one" not in block.replace(str(bundle), "")  # only the clashing index is named
    assert "mirror index remove two" in result.stderr
    assert db_dump(target.db) == before
    target.run("index", "remove", "two")
    target.run("import", str(bundle))
    assert digests(target) == {"s2": digests(source)["s2"]}


def test_an_index_with_the_same_name_and_url_is_reused(
    source: Mirror, target: Mirror, tmp_path: Path
) -> None:
    bundle = tmp_path / "mirror.snb"
    export(source, bundle, "s1")
    (url,) = source.sql("SELECT url FROM \"index\" WHERE name = 'one'")[0]
    target.add_index("one", url, "--default")

    summary = target.json("import", str(bundle))

    assert summary["indexes_created"] == ["two"]
    assert target.sql('SELECT name, priority, is_default FROM "index" ORDER BY id') == [
        ("one", 1, 1),
        ("two", 2, 0),
    ]


# --- damaged and foreign files ---------------------------------------------------------------

TRAILER = 8 + len(b"sha256=") + 64


@pytest.fixture
def bundle(source: Mirror, tmp_path: Path) -> Path:
    path = tmp_path / "mirror.snb"
    export(source, path, "s1", "s2")
    return path


@pytest.fixture
def populated(source: Mirror, tmp_path: Path) -> Mirror:
    """A database that already holds s1, so that "nothing changed" means something."""
    path = tmp_path / "s1.snb"
    export(source, path, "s1")
    target = other_db(tmp_path, source, "populated.db")
    target.run("import", str(path))
    return target


def refused(mirror: Mirror, path: Path, *needles: str) -> str:
    before = db_dump(mirror.db)
    result = mirror.run("import", str(path), code=2)
    block = assert_error(result, 2, f"cannot import {path}", *needles)
    assert db_dump(mirror.db) == before
    return block


def test_a_truncated_bundle_is_refused(
    bundle: Path, populated: Mirror, target: Mirror, tmp_path: Path
) -> None:
    data = bundle.read_bytes()
    for keep in (0, 4, 100, len(data) // 2, len(data) - TRAILER, len(data) - 1):
        cut = tmp_path / f"cut-{keep}.snb"
        cut.write_bytes(data[:keep])
        refused(populated, cut)
        result = target.run("import", str(cut), code=2)
        assert_error(result, 2, str(cut))
        assert not target.db.exists()  # a refused file never creates the database


def test_any_flipped_byte_is_refused(bundle: Path, populated: Mirror, tmp_path: Path) -> None:
    data = bundle.read_bytes()
    end = len(data) - TRAILER
    positions = {0, 4, 5, 6, end // 3, end // 2, end - 1, end, end + 8, len(data) - 1}
    positions |= set(random.Random(0).sample(range(len(data)), 12))
    for position in sorted(positions):
        flipped = bytearray(data)
        flipped[position] ^= 0x10
        path = tmp_path / f"flip-{position}.snb"
        path.write_bytes(bytes(flipped))
        # The zstd magic number is how a bundle is told from other files.
        expected = "not a sneakernet bundle" if position < 4 else "damaged"
        assert expected in refused(populated, path), position


def test_foreign_and_missing_files_are_refused(populated: Mirror, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a bundle\n")
    refused(populated, text, "not a sneakernet bundle")
    refused(populated, tmp_path / "absent.snb", "no such file")
    refused(populated, tmp_path, "directory")


def rewrite(bundle: Path, edit: Callable[[bytes], bytes], *, fix_manifest: bool) -> Path:
    """The bundle with its rows edited, recompressed, and its trailing digest made to match:
    what a careless re-packer (or an attacker) would produce."""
    inside = zstandard.ZstdDecompressor().decompress(bundle.read_bytes()[:-TRAILER])
    magic, manifest, payload = inside.split(b"\n", 2)
    payload = edit(payload)
    if fix_manifest:
        fields = json.loads(manifest)
        fields["payload"] = {"bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
        manifest = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    frame = zstandard.ZstdCompressor().compress(b"\n".join([magic, manifest, payload]))
    digest = hashlib.sha256(frame).hexdigest().encode()
    out = bundle.with_name("rewritten.snb")
    out.write_bytes(frame + struct.pack("<II", 0x184D2A5E, 71) + b"sha256=" + digest)
    return out


def test_rows_that_do_not_match_the_manifest_digest_are_refused(
    bundle: Path, populated: Mirror
) -> None:
    edited = rewrite(bundle, lambda p: p.replace(b'"simple"', b'"flat"', 1), fix_manifest=False)
    refused(populated, edited, "do not match the digest in its manifest")


def test_a_snapshot_whose_rows_disagree_with_its_digest_is_refused(
    bundle: Path, populated: Mirror, source: Mirror
) -> None:
    """Consistent file, inconsistent content: a page's digest changed, and the payload digest
    recomputed. The snapshot's content digest, recomputed on import, gives it away."""
    (page_digest,) = source.sql("SELECT digest FROM page ORDER BY id DESC LIMIT 1")[0]  # s2's
    edited = rewrite(
        bundle,
        lambda p: p.replace(page_digest.encode(), b"0" * 64),
        fix_manifest=True,
    )
    refused(populated, edited, "does not match its digest")


def test_sections_out_of_order_are_refused(bundle: Path, populated: Mirror) -> None:
    edited = rewrite(
        bundle, lambda p: p.replace(b'"table":"rule"}', b'"table":"ruler"}'), fix_manifest=True
    )
    refused(populated, edited)


# --- rule sets and errors on export ------------------------------------------------------------


def table_rows(mirror: Mirror, table: str) -> list[tuple[object, ...]]:
    """Every row of ``table`` as stored, with a rule set named by its digest, not its id."""
    columns = [r[1] for r in mirror.sql(f'PRAGMA table_info("{table}")') if r[1] != "id"]
    select = ", ".join(
        "(SELECT digest FROM rule_set WHERE id = rule_set_id)" if c == "rule_set_id" else f'"{c}"'
        for c in columns
    )
    return sorted(mirror.sql(f'SELECT {select} FROM "{table}"'), key=repr)


def test_rule_sets_travel_with_every_column(source: Mirror, target: Mirror, tmp_path: Path) -> None:
    engine = new_engine(source.db)
    with engine.begin() as conn:
        for n, digest in enumerate(("a" * 64, "b" * 64)):
            key = conn.execute(
                rule_set.insert().values(digest=digest, created_at=f"2026-01-0{n + 1}T00:00:00Z")
            ).inserted_primary_key
            assert key is not None
            conn.execute(
                rule.insert(),
                [
                    {"rule_set_id": key[0], "position": 0, "kind": "setting",
                     "subject": "index-strategy", "value": '"first-index"', "marker": None},
                    {"rule_set_id": key[0], "position": 1, "kind": "pin", "subject": "torch*",
                     "value": '["two"]', "marker": f"python_version >= '3.{10 + n}'"},
                ],
            )  # fmt: skip
    engine.dispose()
    bundle = tmp_path / "mirror.snb"
    export(source, bundle, "s1")

    first = target.json("import", str(bundle))
    again = target.json("import", str(bundle))

    assert {"a" * 64, "b" * 64} <= set(first["rule_sets_added"])
    assert again["changed"] is False and again["rule_sets_added"] == []
    for table in ("rule_set", "rule"):
        assert table_rows(target, table) == table_rows(source, table)
    assert count(target, "rule") == count(source, "rule") >= 4


def test_exporting_an_unknown_snapshot_writes_nothing(source: Mirror, tmp_path: Path) -> None:
    bundle = tmp_path / "mirror.snb"
    result = source.run("export", "s1", "nosuch", "-o", str(bundle), code=2)
    assert_error(result, 2, "'nosuch'")
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".snb") == []
    result = source.run("export", "s1", "-o", str(tmp_path / "no" / "dir.snb"), code=2)
    assert_error(result, 2, "does not exist")
