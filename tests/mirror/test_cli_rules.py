"""`mirror rules …`: every settable key, pins, history, export/import round trips, uv's and
pip's files, and bad input refused with the database left as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from db.engine import open_engine
from db.indexes import add_index
from db.rules.rows import rule_document
from tests.conftest import Mirror
from tests.db import assert_error, db_dump

A, B, MAIN = (f"http://127.0.0.1:{port}/simple/" for port in (8001, 8002, 8003))
PACKAGE_MODE = ("packages", "zope-interface", "prerelease")
TEN_UTC = "2024-03-01T10:00:00Z"


@pytest.fixture
def three(mirror: Mirror) -> Mirror:
    """Indexes a, b and main (the default)."""
    mirror.add_index("a", A, check=False)
    mirror.add_index("b", B, check=False)
    mirror.add_index("main", MAIN, "--default", check=False)
    return mirror


def _show(mirror: Mirror) -> dict[str, Any]:
    shown: dict[str, Any] = mirror.json("rules", "show")
    return shown


def _index(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(i for i in document["indexes"] if i["name"] == name)


def _history(mirror: Mirror) -> list[dict[str, str]]:
    history: list[dict[str, str]] = mirror.json("rules", "history")
    return history


def _stored(mirror: Mirror, digest: str) -> dict[str, Any]:
    """A stored version read the way `resolve` reads it: sqlite3, no SQLAlchemy."""
    conn = sqlite3.connect(f"file:{mirror.db}?mode=ro", uri=True)
    try:
        return rule_document(conn, digest)
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("key", "value", "where", "expected"),
    [
        ("index-strategy", "unsafe-first-match", ("strategy",), "unsafe-first-match"),
        ("prerelease", "pep440", ("prerelease",), "pep440"),
        ("prerelease.Zope_Interface", "allow", PACKAGE_MODE, "allow"),
        ("exclude-newer", "2024-03-01", ("exclude-newer",), "2024-03-01T00:00:00Z"),
        ("exclude-newer", "false", ("exclude-newer",), False),
        ("exclude-newer.torch", "false", ("packages", "torch", "exclude-newer"), False),
        ("index.a.exclude-newer", "2024-03-01T12:00+02:00", ("a", "exclude-newer"), TEN_UTC),
        ("index.a.not-here", "403, 401", ("a", "not-here"), [401, 403]),
        ("index.a.default", "true", ("a", "default"), True),
        ("index.b.explicit", "TRUE", ("b", "explicit"), True),
    ],
)  # fmt: skip
def test_set_every_key(
    three: Mirror, key: str, value: str, where: tuple[str, ...], expected: object
) -> None:
    before = _show(three)
    result = three.run("rules", "set", key, value)
    assert result.stdout == "" and "rules " in result.stderr
    after = _show(three)
    assert after["digest"] != before["digest"]
    found: Any = _index(after, where[0]) if where[0] in ("a", "b") else after[where[0]]
    for step in where[1:]:
        found = found[step]
    assert found == expected
    if key == "index.a.default":
        # One default index: the role moves, in the rules and in the index table alike.
        assert not _index(after, "main")["default"]
        listed = {i["name"]: i["default"] for i in three.json("index", "list")}
        assert listed == {"a": True, "b": False, "main": False}
    history = _history(three)
    assert history[0]["digest"] == after["digest"] and history[1]["digest"] == before["digest"]


def test_unset_returns_to_the_same_digest(three: Mirror) -> None:
    start = _show(three)["digest"]
    pairs = [
        ("prerelease.torch", "allow"),
        ("exclude-newer", "2024-01-01"),
        ("exclude-newer.torch", "2024-01-01"),
        ("index.a.exclude-newer", "false"),
        ("index.a.not-here", "403"),
    ]
    for key, value in pairs:
        three.run("rules", "set", key, value)
    assert three.json("index", "list")[0]["not_here"] == [403]
    for key, _ in pairs:
        three.run("rules", "set", key, "none" if key.endswith("not-here") else "unset")
    assert _show(three)["digest"] == start
    assert three.json("index", "list")[0]["not_here"] == []
    # Undoing stores no second copy of the rules, but the history shows every change.
    assert three.scalar("SELECT count(*) FROM rule_set") == 3 + 2 * len(pairs) - 1
    assert len(_history(three)) == 3 + 2 * len(pairs)
    assert "rules unchanged" in three.run("rules", "set", "exclude-newer", "unset").stderr


@pytest.mark.parametrize(
    ("args", "needles", "hint"),
    [
        (("set", "colour", "red"), ["unknown key 'colour'"], "index.<name>.not-here"),
        (("set", "index.a.colour", "red"), ["unknown key"], "valid keys"),
        (("set", "prerelease", "sometimes"), ["invalid prerelease mode 'sometimes'"], "pep440"),
        (("set", "index-strategy", "best"), ["invalid index-strategy"], "unsafe-best-match"),
        (("set", "prerelease.torch", "maybe"), ["invalid prerelease.torch mode"], "allow"),
        (("set", "exclude-newer", "yesterday"), ["invalid cutoff 'yesterday'"], "false"),
        (("set", "index.nope.default", "true"), ["unknown index 'nope'", "a, b, main"], "index"),
        (("set", "index.a.default", "maybe"), ["invalid default 'maybe'"], "true, false"),
        (("set", "index.a.not-here", "200"), ["invalid not-here status '200'"], "401,403"),
        (("set", "prerelease.not a name!", "allow"), ["invalid package name"], "project"),
        (("pin", "torch", "nope"), ["unknown index 'nope'"], "mirror index add"),
        (("pin", "torch", "a", "--marker", "os = 'x'"), ["invalid marker", "^"], "PEP 508"),
        (("pin", "to rch", "a"), ["invalid package glob"], "nvidia-*"),
        (("unpin", "torch"), ["no pin for 'torch'"], "rules show"),
        (("show", "--digest", "12345678"), ["no stored rule set '12345678'"], "rules history"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    three: Mirror, args: tuple[str, ...], needles: list[str], hint: str
) -> None:
    before = db_dump(three.db)
    result = three.run("rules", *args, code=2)
    assert_error(result, 2, *needles)
    assert hint in result.stderr.split("hint: ", 1)[1]
    assert db_dump(three.db) == before


def test_pin_and_unpin(three: Mirror) -> None:
    three.run("rules", "pin", "Torch_*", "a", "b", "--marker", "sys_platform == 'linux'")
    three.run("rules", "pin", "torch", "b")
    pins = _show(three)["pins"]
    assert pins == [
        {"glob": "torch-*", "indexes": ["a", "b"], "marker": 'sys_platform == "linux"'},
        {"glob": "torch", "indexes": ["b"], "marker": None},
    ]
    # The same glob and marker: replaced in place, not added.
    three.run("rules", "pin", "torch-*", "b", "--marker", 'sys_platform == "linux"')
    assert [p["indexes"] for p in _show(three)["pins"]] == [["b"], ["b"]]
    assert "rules unchanged" in three.run("rules", "pin", "torch", "b").stderr
    text = three.run("rules", "show").stdout
    assert 'torch-* ; sys_platform == "linux"  → b' in text
    three.run("rules", "unpin", "torch_*", "--marker", "sys_platform == 'darwin'", code=2)
    three.run("rules", "unpin", "torch_*")
    assert [p["glob"] for p in _show(three)["pins"]] == ["torch"]
    assert _history(three)[0]["summary"] == '-pin torch-* ; sys_platform == "linux"'


def test_history_and_old_digests_stay_readable(three: Mirror) -> None:
    digests = [_show(three)["digest"]]
    for args in (
        ("set", "prerelease", "allow"),
        ("pin", "torch", "a"),
        ("set", "prerelease", "if-necessary"),
    ):
        three.run("rules", *args)
        digests.append(_show(three)["digest"])  # fmt: skip
    history = _history(three)
    assert [h["digest"] for h in history[:4]] == digests[::-1]
    assert [h["summary"] for h in history[:4]] == [
        "prerelease allow → if-necessary",
        "+pin torch → a",
        "prerelease if-necessary → allow",
        "+index main",
    ]
    for digest in digests:
        document = _stored(three, digest)
        assert document["indexes"] and {**document, "digest": digest} == three.json(
            "rules", "show", "--digest", digest[:8]
        )
    lines = three.run("rules", "history").stdout.splitlines()
    assert lines[0].startswith(digests[-1][:12] + "  ") and lines[0].endswith("→ if-necessary")


def test_index_add_and_remove_make_versions(mirror: Mirror) -> None:
    mirror.run("db", "upgrade")
    assert _history(mirror) == []
    assert "none stored yet" in mirror.run("rules", "show").stdout
    mirror.add_index("a", A, "--not-here", "403", "--exclude-newer", "false", check=False)
    mirror.add_index("b", B, "--default", check=False)
    assert [h["summary"] for h in _history(mirror)] == ["+index b", "+index a"]
    assert _index(_show(mirror), "a") == {
        "name": "a", "url": A, "default": False, "explicit": False,
        "not-here": [403], "exclude-newer": False,
    }  # fmt: skip
    mirror.run("rules", "pin", "torch", "a")
    before = db_dump(mirror.db)
    refused = mirror.run("index", "remove", "a", code=2)
    assert_error(refused, 2, "'a' is named by the pin(s) torch")
    assert "mirror rules unpin torch" in refused.stderr
    assert db_dump(mirror.db) == before
    mirror.run("rules", "unpin", "torch")
    mirror.run("index", "remove", "a")
    assert _history(mirror)[0]["summary"] == "-index a"
    assert [i["name"] for i in _show(mirror)["indexes"]] == ["b"]


def test_rules_implied_by_indexes_are_stored_before_the_first_change(mirror: Mirror) -> None:
    # A database synced before any rules were stored: indexes only.
    engine = open_engine(f"sqlite:///{mirror.db}")
    with engine.begin() as conn:
        add_index(conn, name="old", url=A, not_here=(403,))
    engine.dispose()
    implied = _show(mirror)["digest"]
    assert "implied by the configured indexes" in mirror.run("rules", "show").stdout
    mirror.run("rules", "set", "prerelease", "allow")
    history = _history(mirror)
    assert [h["summary"] for h in history] == [
        "prerelease if-necessary → allow",
        "rules implied by the configured indexes",
    ]
    assert history[1]["digest"] == implied
    assert _index(_stored(mirror, implied), "old")["not-here"] == [403]


def _rich(mirror: Mirror, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir(exist_ok=True)
    mirror.add_index("nightly", A, "--not-here", "403", check=False)
    mirror.add_index("links", str(wheels), "--flat", "--exclude-newer", "false")
    mirror.add_index("main", MAIN, "--default", "--exclude-newer", "2024-05-01", check=False)
    for args in (
        ("set", "index.nightly.explicit", "true"),
        ("set", "index-strategy", "unsafe-best-match"),
        ("set", "prerelease", "disallow"),
        ("set", "prerelease.torch", "allow"),
        ("set", "exclude-newer", "2024-06-01T00:00:00Z"),
        ("set", "exclude-newer.torch", "false"),
        ("set", "exclude-newer.numpy", "2024-01-01"),
        ("pin", "torch", "nightly", "--marker", "sys_platform == 'linux'"),
        ("pin", "torch", "main"),
        ("pin", "mylib-*", "links", "main"),
    ):
        mirror.run("rules", *args)


def test_export_import_round_trip_is_lossless_and_deterministic(
    mirror: Mirror, tmp_path: Path
) -> None:
    _rich(mirror, tmp_path)
    exported = tmp_path / "rules.toml"
    mirror.run("rules", "export", "-o", str(exported))
    text = exported.read_text()
    assert mirror.run("rules", "export").stdout == text  # same rules, same bytes
    digest = _show(mirror)["digest"]
    assert text.startswith(f"# sneakernet rules {digest}\n")
    other = Mirror(tmp_path / "other.db", mirror.env)
    result = other.run("rules", "import", str(exported))
    assert "added index nightly" in result.stderr and result.stdout == ""
    assert _show(other) == _show(mirror)
    assert other.run("rules", "export").stdout == text
    assert {i["name"]: i["format"] for i in other.json("index", "list")}["links"] == "flat"
    assert "rules unchanged" in other.run("rules", "import", str(exported)).stderr
    # An older export brings its version back, as a new change.
    mirror.run("rules", "set", "prerelease", "allow")
    mirror.run("rules", "import", str(exported))
    assert _show(mirror)["digest"] == digest
    assert _history(mirror)[0]["summary"].startswith("import rules.toml: prerelease allow")


PYPROJECT = """\
[project]
name = "app"

[tool.uv]
index-strategy = "unsafe-first-match"
prerelease = "if-necessary-or-explicit"
exclude-newer = "2024-03-01T00:00:00Z"
dev-dependencies = ["pytest"]

[tool.uv.exclude-newer-package]
Torch = false

[[tool.uv.index]]
name = "cpu"
url = "http://alice:s3cret@127.0.0.1:8005/whl/cpu"
explicit = true
ignore-error-codes = [403]
authenticate = "always"

[[tool.uv.index]]
name = "cu"
url = "http://127.0.0.1:8006/whl/cu"
explicit = true

[[tool.uv.index]]
name = "links"
url = "http://127.0.0.1:8007/links/"
format = "flat"

[tool.uv.sources]
torch = [
  { index = "cpu", marker = "sys_platform == 'darwin'" },
  { index = "cu", marker = "sys_platform != 'darwin'" },
]
torchvision = { index = "cpu" }
mylib = { path = "../mylib" }
flatlib = { index = "links" }
"""


def test_uv_pyproject_import(three: Mirror, tmp_path: Path) -> None:
    three.run("rules", "pin", "torch", "a")
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    result = three.run("rules", "import", str(tmp_path / "pyproject.toml"))
    rules = _show(three)
    assert [i["name"] for i in rules["indexes"]] == ["cpu", "cu", "a", "b", "main"]
    assert _index(rules, "cpu") == {
        "name": "cpu", "url": "http://127.0.0.1:8005/whl/cpu", "default": False,
        "explicit": True, "not-here": [403], "exclude-newer": None,
    }  # fmt: skip
    # The file's pins replace the earlier pin of torch.
    assert rules["pins"] == [
        {"glob": "torch", "indexes": ["cpu"], "marker": 'sys_platform == "darwin"'},
        {"glob": "torch", "indexes": ["cu"], "marker": 'sys_platform != "darwin"'},
        {"glob": "torchvision", "indexes": ["cpu"], "marker": None},
    ]
    assert (rules["strategy"], rules["prerelease"]) == ("unsafe-first-match", "if-necessary")
    assert rules["exclude-newer"] == "2024-03-01T00:00:00Z"
    assert rules["packages"] == {"torch": {"prerelease": None, "exclude-newer": False}}
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    for needle in (
        "dev-dependencies: not index rules",
        "index[0].authenticate: not imported",
        "sources.mylib: not imported",
        "`mirror index add links http://127.0.0.1:8007/links/ --flat`",
        "pin flatlib: not imported",
    ):
        assert sum(needle in w for w in warnings) == 1, (needle, warnings)
    assert not any("s3cret" in line or "alice" in line for line in db_dump(three.db))
    assert _history(three)[0]["summary"].startswith("import pyproject.toml: index-strategy")


def test_uv_toml_import(mirror: Mirror, tmp_path: Path) -> None:
    uv_toml = tmp_path / "uv.toml"
    uv_toml.write_text(
        f'index-url = "{MAIN}"\nextra-index-url = ["{A}"]\nprerelease = "allow"\n'
        # A bare TOML date, as uv accepts it.
        "exclude-newer = 2024-03-01\n"
        '[[index]]\nname = "b"\nurl = "http://127.0.0.1:8002/simple/"\ndefault = false\n'
    )
    mirror.run("rules", "import", str(uv_toml))
    rules = _show(mirror)
    assert [(i["name"], i["default"]) for i in rules["indexes"]] == [
        ("extra-1", False),
        ("b", False),
        ("default", True),
    ]
    assert rules["prerelease"] == "allow"
    assert rules["exclude-newer"] == "2024-03-01T00:00:00Z"


def test_pip_conf_import(mirror: Mirror, tmp_path: Path) -> None:
    mirror.add_index("corp", MAIN, "--not-here", "403", check=False)
    conf = tmp_path / "pip.conf"
    conf.write_text(
        f"[global]\nindex-url = {MAIN}\nextra-index-url =\n    {A}\n    {B}\n"
        "trusted-host = 127.0.0.1\ntimeout = 60\n[install]\npre = true\n"
    )
    result = mirror.run("rules", "import", str(conf))
    rules = _show(mirror)
    # Extra indexes come before the index-url one, in the order given; an existing index with
    # the same URL keeps its name and policy and becomes the default.
    assert [(i["name"], i["url"], i["default"]) for i in rules["indexes"]] == [
        ("extra-1", A, False),
        ("extra-2", B, False),
        ("corp", MAIN, True),
    ]
    assert _index(rules, "corp")["not-here"] == [403]
    assert rules["prerelease"] == "allow"
    assert "warning: pip.conf: trusted-host: not imported" in result.stderr
    assert "warning: pip.conf: timeout: not index rules, ignored" in result.stderr


RULES = 'semantics = "sneakernet-1"\n'
BAD_FILES = [
    ("rules.toml", RULES + "prerelease = sometimes\n", ["rules.toml:2:14: invalid TOML", "^"]),
    ("rules.toml", RULES + 'prerelease = "often"\n', ["rules.toml:2: invalid prerelease mode"]),
    ("rules.toml", RULES + 'colour = "red"\n', ["rules.toml:2: unknown key colour"]),
    ("rules.toml", RULES + 'exclude-newer = "soon"\n', ["rules.toml:2: invalid cutoff 'soon'"]),
    (
        "rules.toml",
        RULES + '\n[[pin]]\nglob = "x"\nindexes = ["nope"]\n',
        ["rules.toml:5:", "unknown index 'nope'"],
    ),
    (
        "rules.toml",
        RULES + f'[[index]]\nname = "a"\nurl = "{B}"\n',
        ["index 'a' exists with another URL"],
    ),
    ("rules.toml", 'semantics = "sneakernet-9"\n', ["semantics 'sneakernet-9'"]),
    ("pyproject.toml", '[project]\nname = "x"\n', ["no [tool.uv] settings"]),
    (
        "pyproject.toml",
        '[tool.uv]\nindex-strategy = "fastest"\n',
        ["pyproject.toml:2: invalid index-strategy"],
    ),
    (
        "pyproject.toml",
        '[[tool.uv.index]]\nname = "x"\nurl = "http://127.0.0.1:1/"\nignore-error-codes = "403"\n',
        ["pyproject.toml:4: tool.uv.index[0].ignore-error-codes must be"],
    ),
    ("pip.conf", "index-url = http://127.0.0.1:1/\n", ["pip.conf:1: invalid pip configuration"]),
]


@pytest.mark.parametrize(("name", "content", "needles"), BAD_FILES)
def test_bad_files_are_refused_and_change_nothing(
    three: Mirror, tmp_path: Path, name: str, content: str, needles: list[str]
) -> None:
    path = tmp_path / name
    path.write_text(content)
    before = db_dump(three.db)
    assert_error(three.run("rules", "import", str(path), code=2), 2, *needles)
    assert db_dump(three.db) == before


def test_replace_points_an_existing_index_at_the_new_url(three: Mirror, tmp_path: Path) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(f'semantics = "sneakernet-1"\n[[index]]\nname = "a"\nurl = "{B}"\n')
    result = three.run("rules", "import", "--replace", str(path))
    assert [(i["name"], i["url"]) for i in _show(three)["indexes"]] == [("a", B)]
    # The old row stays for old snapshots; indexes the rules leave out are pointed out.
    assert three.scalar("SELECT count(*) FROM \"index\" WHERE name = 'a'") == 2
    assert "index b is configured but not in the imported rules" in result.stderr


@pytest.mark.parametrize("command", ["show", "set", "pin", "unpin", "history", "export", "import"])
def test_every_command_has_an_example(mirror: Mirror, command: str) -> None:
    text = mirror.run("rules", command, "--help").stdout
    assert "Example:\n    mirror rules " in text
    if command == "set":
        from resolve.rules.edit import SETTABLE_KEYS

        assert all(key in text for key in SETTABLE_KEYS)
