"""Indexes taken from pip's configuration when none are configured, read as pip documents it
(files global → user → site → PIP_CONFIG_FILE, [install] over [global], PIP_* variables over
files) without pip.

pip's built-in default index is read from pip while the tests run; it is never written here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from db.errors import SneakernetError
from mirror.pipconfig import (
    PipIndex,
    pip_builtin_index,
    pip_config_files,
    pip_indexes,
    read_pip_settings,
)
from mirror.rules.importing import read_rules_file


def _getter(settings: dict[str, str]) -> Callable[[str], str | None]:
    asked: list[str] = []

    def get(key: str) -> str | None:
        asked.append(key)
        return settings.get(key)

    return get


@pytest.fixture
def builtin() -> str:
    from pip._internal.models.index import PyPI

    url = str(PyPI.simple_url)
    assert pip_builtin_index() == url
    return url


def test_extra_index_urls_come_before_index_url() -> None:
    found = pip_indexes(
        _getter(
            {
                "index-url": "http://127.0.0.1:8000/corp/simple/",
                "extra-index-url": "http://127.0.0.1:8001/a/simple/\nhttp://127.0.0.1:8002/b/simple/",
            }
        )
    )
    assert found == [
        PipIndex("extra-1", "http://127.0.0.1:8001/a/simple/", "simple", False, "extra-index-url"),
        PipIndex("extra-2", "http://127.0.0.1:8002/b/simple/", "simple", False, "extra-index-url"),
        PipIndex("default", "http://127.0.0.1:8000/corp/simple/", "simple", True, "index-url"),
    ]


def test_find_links_become_flat_indexes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wheels").mkdir()
    monkeypatch.chdir(tmp_path)
    found = pip_indexes(
        _getter(
            {
                "index-url": "http://127.0.0.1:8000/simple/",
                "find-links": "wheels http://127.0.0.1:8003/links/",
            }
        )
    )
    flat = [i for i in found if i.format == "flat"]
    assert [(i.name, i.url, i.is_default) for i in flat] == [
        ("links-1", (tmp_path / "wheels").resolve().as_uri(), False),
        ("links-2", "http://127.0.0.1:8003/links/", False),
    ]
    assert flat[0].url.startswith("file:///")
    assert found[-1].is_default and found[-1].name == "default"


@pytest.mark.parametrize("suffix", ["", "/"])
def test_index_url_equal_to_pips_default_is_named_pypi(builtin: str, suffix: str) -> None:
    url = builtin.rstrip("/") + suffix
    (found,) = pip_indexes(_getter({"index-url": url}))
    assert found.name == "pypi"
    assert found.is_default
    assert found.url.rstrip("/") == builtin.rstrip("/")


def test_no_configuration_means_pips_builtin_default(builtin: str) -> None:
    assert pip_indexes(_getter({})) == [
        PipIndex("pypi", builtin, "simple", True, "built-in default")
    ]


def test_no_index_keeps_only_find_links(builtin: str, tmp_path: Path) -> None:
    found = pip_indexes(
        _getter(
            {
                "no-index": "true",
                "index-url": "http://127.0.0.1:8000/simple/",
                "extra-index-url": "http://127.0.0.1:8001/simple/",
                "find-links": str(tmp_path),
            }
        )
    )
    assert [(i.name, i.format) for i in found] == [("links-1", "flat")]
    assert all(builtin.rstrip("/") not in i.url for i in found)
    assert pip_indexes(_getter({"no-index": "1"})) == []
    assert [i.name for i in pip_indexes(_getter({"no-index": "false"}))] == ["pypi"]


# --- where pip's files are, and which wins -----------------------------------------------------


@pytest.fixture
def machine(tmp_path: Path) -> dict[str, str]:
    """A Unix machine's pip-relevant environment, every folder under ``tmp_path``."""
    return {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_DIRS": os.pathsep.join([str(tmp_path / "xdg1"), str(tmp_path / "xdg2")]),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "VIRTUAL_ENV": str(tmp_path / "venv"),
    }


def unix_files(tmp_path: Path, env: dict[str, str]) -> list[Path]:
    return pip_config_files(env, platform="linux", etc=tmp_path / "etc")


def write_conf(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_unix_files_in_pips_order(tmp_path: Path, machine: dict[str, str]) -> None:
    assert unix_files(tmp_path, machine) == [
        tmp_path / "xdg1/pip/pip.conf",
        tmp_path / "xdg2/pip/pip.conf",
        tmp_path / "etc/pip.conf",
        tmp_path / "home/.pip/pip.conf",
        tmp_path / "config/pip/pip.conf",
        tmp_path / "venv/pip.conf",
    ]
    bare = {"HOME": str(tmp_path / "home")}
    files = pip_config_files(bare, platform="linux", prefix=str(tmp_path / "prefix"))
    assert files == [
        Path("/etc/xdg/pip/pip.conf"),
        Path("/etc/pip.conf"),
        tmp_path / "home/.pip/pip.conf",
        tmp_path / "home/.config/pip/pip.conf",
        tmp_path / "prefix/pip.conf",  # no virtual environment: the interpreter's, as pip
    ]


def test_pip_config_file_comes_last_and_hides_the_user_files(
    tmp_path: Path, machine: dict[str, str]
) -> None:
    named = write_conf(tmp_path / "named.conf", "")
    files = unix_files(tmp_path, {**machine, "PIP_CONFIG_FILE": str(named)})
    assert files == [
        tmp_path / "xdg1/pip/pip.conf",
        tmp_path / "xdg2/pip/pip.conf",
        tmp_path / "etc/pip.conf",
        tmp_path / "venv/pip.conf",
        named,
    ]
    # A PIP_CONFIG_FILE that does not exist leaves the user files in (pip checks it exists).
    missing = tmp_path / "missing.conf"
    files = unix_files(tmp_path, {**machine, "PIP_CONFIG_FILE": str(missing)})
    assert tmp_path / "config/pip/pip.conf" in files and files[-1] == missing
    assert unix_files(tmp_path, {**machine, "PIP_CONFIG_FILE": os.devnull}) == []


def test_windows_and_macos_files(tmp_path: Path) -> None:
    home = tmp_path / "me"
    windows = {"USERPROFILE": str(home), "APPDATA": str(home / "roaming")}
    windows |= {"PROGRAMDATA": str(tmp_path / "data"), "VIRTUAL_ENV": str(tmp_path / "venv")}
    assert pip_config_files(windows, platform="win32") == [
        tmp_path / "data/pip/pip.ini",
        home / "pip/pip.ini",
        home / "roaming/pip/pip.ini",
        tmp_path / "venv/pip.ini",
    ]
    mac = {"HOME": str(home), "VIRTUAL_ENV": str(tmp_path / "venv")}
    expected = [
        Path("/Library/Application Support/pip/pip.conf"),
        home / ".pip/pip.conf",
        home / ".config/pip/pip.conf",
        tmp_path / "venv/pip.conf",
    ]
    assert pip_config_files(mac, platform="darwin") == expected
    (home / "Library/Application Support/pip").mkdir(parents=True)
    expected[2] = home / "Library/Application Support/pip/pip.conf"
    assert pip_config_files(mac, platform="darwin") == expected


def test_each_file_overrides_the_ones_before(tmp_path: Path, machine: dict[str, str]) -> None:
    named = tmp_path / "named.conf"
    files = [*unix_files(tmp_path, machine), named]  # as with PIP_CONFIG_FILE, users' included
    for number, path in enumerate(files):
        write_conf(path, f"[global]\nindex-url = http://127.0.0.1:9/{number}/\n")
    for number in reversed(range(len(files))):
        url = read_pip_settings(machine, files)["index-url"]
        assert url == f"http://127.0.0.1:9/{number}/", files[number]
        files[number].unlink()
    assert "index-url" not in read_pip_settings(machine, files)


def test_install_beats_global_in_any_file(tmp_path: Path, machine: dict[str, str]) -> None:
    """pip layers sections over files: ``[install]`` of the weakest file beats ``[global]`` of
    the strongest (pip's ConfigOptionParser orders by section, then by file)."""
    weak = write_conf(tmp_path / "etc/pip.conf", "[install]\nindex-url = http://127.0.0.1:9/i/\n")
    strong = write_conf(tmp_path / "named.conf", "[global]\nindex-url = http://127.0.0.1:9/g/\n")
    assert read_pip_settings(machine, [weak, strong])["index-url"] == "http://127.0.0.1:9/i/"
    one = write_conf(
        tmp_path / "one.conf",
        "[install]\nindex-url = http://127.0.0.1:9/i/\n[global]\nindex-url = http://127.0.0.1:9/g/\n"
        "extra-index-url = http://127.0.0.1:9/x/\n[download]\nindex-url = http://127.0.0.1:9/d/\n",
    )
    settings = read_pip_settings(machine, [one])
    assert settings["index-url"] == "http://127.0.0.1:9/i/"
    assert settings["extra-index-url"] == "http://127.0.0.1:9/x/"


def test_empty_values_and_key_spellings(tmp_path: Path, machine: dict[str, str]) -> None:
    first = write_conf(tmp_path / "a.conf", "[global]\nIndex_URL = http://127.0.0.1:9/a/\n")
    assert read_pip_settings(machine, [first])["index-url"] == "http://127.0.0.1:9/a/"
    # An empty [install] value sets nothing: [global] still applies …
    empty_install = write_conf(tmp_path / "b.conf", "[install]\nindex-url =\n")
    assert read_pip_settings(machine, [first, empty_install])["index-url"].endswith("/a/")
    # … but a later file's empty value in the same section replaces the earlier one, as in pip.
    empty_global = write_conf(tmp_path / "c.conf", "[global]\nindex_url =\n")
    assert "index-url" not in read_pip_settings(machine, [first, empty_global])


def test_environment_beats_every_file(tmp_path: Path, machine: dict[str, str]) -> None:
    conf = write_conf(
        tmp_path / "pip.conf",
        "[install]\nindex-url = http://127.0.0.1:9/file/\nfind-links = /file/links\n",
    )
    env = {
        **machine,
        "PIP_INDEX_URL": "http://127.0.0.1:9/env/",
        "PIP_EXTRA_INDEX_URL": "http://127.0.0.1:9/x/ http://127.0.0.1:9/y/",
        "PIP_FIND_LINKS": "",  # empty: sets nothing, the file's stays
        "PIP_NO_INDEX": "false",
    }
    settings = read_pip_settings(env, [conf])
    assert settings["index-url"] == "http://127.0.0.1:9/env/"
    assert settings["extra-index-url"].split() == ["http://127.0.0.1:9/x/", "http://127.0.0.1:9/y/"]
    assert settings["find-links"] == "/file/links"
    assert settings["no-index"] == "false"


def test_a_malformed_file_is_an_error_naming_it(tmp_path: Path, machine: dict[str, str]) -> None:
    broken = write_conf(tmp_path / "etc/pip.conf", "index-url = http://127.0.0.1:9/\n")
    with pytest.raises(SneakernetError) as caught:
        read_pip_settings(machine, [tmp_path / "absent.conf", broken])
    assert caught.value.message.startswith(f"{broken}:1: invalid pip configuration")
    assert caught.value.hint is not None and "PIP_CONFIG_FILE" in caught.value.hint


@pytest.mark.parametrize(
    "text",
    [
        "[global]\nindex-url = http://127.0.0.1:9/g/\nextra_index_url = http://127.0.0.1:9/x/\n"
        "[install]\nindex_url = http://127.0.0.1:9/i/\n",
        "[install]\nextra-index-url =\n    http://127.0.0.1:9/x/\n    http://127.0.0.1:9/y/\n"
        "index-url =\n[global]\n--index-url = http://127.0.0.1:9/g/\n",
    ],
)
def test_rules_import_reads_a_file_as_sync_does(
    tmp_path: Path, machine: dict[str, str], text: str
) -> None:
    """`mirror rules import pip.conf` and the sync's adoption share one parser and one rule."""
    conf = write_conf(tmp_path / "pip.conf", text)
    settings = read_pip_settings(machine, [conf])
    imported = read_rules_file(conf)

    expected = [f"extra-{n}" for n, _ in enumerate(settings["extra-index-url"].split(), 1)]
    assert [(i.rule.name, i.rule.url) for i in imported.indexes] == [
        *zip(expected, settings["extra-index-url"].split(), strict=True),
        ("default", settings["index-url"]),
    ]


# --- the process environment, with pip or without it ------------------------------------------


def test_isolated_from_configuration(monkeypatch: pytest.MonkeyPatch, builtin: str) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    assert pip_indexes() == [PipIndex("pypi", builtin, "simple", True, "built-in default")]
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "http://127.0.0.1:8201/x/ http://127.0.0.1:8202/y/")
    assert [i.name for i in pip_indexes()] == ["extra-1", "extra-2", "pypi"]


def test_reads_the_process_environment_and_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = write_conf(
        tmp_path / "pip.conf",
        "[global]\nindex-url = http://127.0.0.1:8100/global/\n"
        "extra-index-url = http://127.0.0.1:8101/global-extra/\n"
        "[install]\nindex-url = http://127.0.0.1:8102/install/\n",
    )
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    # The machine's own global and site files: none (an empty XDG folder, a fresh venv path).
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg"))
    monkeypatch.setenv("VIRTUAL_ENV", str(tmp_path / "venv"))
    monkeypatch.setattr("mirror.pipconfig.UNIX_ETC", tmp_path / "etc")
    assert [(i.name, i.url) for i in pip_indexes()] == [
        ("extra-1", "http://127.0.0.1:8101/global-extra/"),
        ("default", "http://127.0.0.1:8102/install/"),
    ]
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:8103/env/")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    assert [(i.name, i.url) for i in pip_indexes()] == [
        ("extra-1", "http://127.0.0.1:8101/global-extra/"),
        ("links-1", tmp_path.resolve().as_uri()),
        ("default", "http://127.0.0.1:8103/env/"),
    ]
    monkeypatch.setenv("PIP_NO_INDEX", "yes")
    assert [i.name for i in pip_indexes()] == ["links-1"]


@pytest.fixture
def without_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """pip cannot be imported (a uv-made virtual environment has none)."""
    for name in [n for n in sys.modules if n == "pip" or n.startswith("pip.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "pip", None)
    monkeypatch.setitem(sys.modules, "pip._internal.models.index", None)


@pytest.mark.usefixtures("without_pip")
def test_pip_index_url_is_honoured_without_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    for name in ("PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:8300/corp/simple/")

    assert pip_builtin_index() is None
    assert pip_indexes() == [
        PipIndex("default", "http://127.0.0.1:8300/corp/simple/", "simple", True, "index-url")
    ]
    monkeypatch.delenv("PIP_INDEX_URL")
    assert pip_indexes() == []  # no configuration and no pip: nothing to fall back on
