"""Indexes taken from pip's configuration when none are configured.

pip's built-in default index is read from pip while the tests run; it is never written here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mirror.pipconfig import PipIndex, pip_builtin_index, pip_indexes


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
        PipIndex("pypi", builtin, "simple", True, "pip's built-in default")
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


def test_reads_pips_own_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The real getter: environment variables beat the configuration file, `install` beats
    # `global` (as in pip).
    config = tmp_path / "pip.conf"
    config.write_text(
        "[global]\n"
        "index-url = http://127.0.0.1:8100/global/\n"
        "extra-index-url = http://127.0.0.1:8101/global-extra/\n"
        "[install]\n"
        "index-url = http://127.0.0.1:8102/install/\n"
    )
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    # pip still reads the machine's global and site files besides PIP_CONFIG_FILE: hide them.
    from pip._internal.configuration import Kind

    monkeypatch.setattr(
        "pip._internal.configuration.get_configuration_files",
        lambda: {Kind.GLOBAL: [], Kind.SITE: [], Kind.USER: []},
    )
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


def test_isolated_from_configuration(monkeypatch: pytest.MonkeyPatch, builtin: str) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    assert pip_indexes() == [PipIndex("pypi", builtin, "simple", True, "pip's built-in default")]
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "http://127.0.0.1:8201/x/ http://127.0.0.1:8202/y/")
    assert [i.name for i in pip_indexes()] == ["extra-1", "extra-2", "pypi"]
