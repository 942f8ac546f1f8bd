"""Judging one version's files for a target: which file stands for the release, and whose
metadata it may use (SEMANTICS §5)."""

from __future__ import annotations

from dataclasses import replace

from packaging.version import Version

from db.read.file_list import FileMetadata, FileRecord
from resolve.candidates.judge import Reason, Target, judge_version
from resolve.rules.model import IndexRule
from resolve.targets.environment import TargetEnvironment

LINUX = Target(TargetEnvironment.create("3.12", "x86_64-manylinux_2_28"))
RULE = IndexRule("pypi", "http://127.0.0.1:1/simple/", True)
STATIC = FileMetadata("pep658", True, ("b>=1",))

WINDOWS_WHEEL = FileRecord(
    filename="a-1.0-cp312-cp312-win_amd64.whl",
    url="http://127.0.0.1:1/a-1.0-cp312-cp312-win_amd64.whl",
    version="1.0",
    version_valid=True,
    is_wheel=True,
    tags="cp312-cp312-win_amd64",
    requires_python=None,
    yanked=False,
    yanked_reason=None,
    upload_time="2024-01-01T00:00:00.000000Z",
    size=1,
    sha256="0" * 64,
    hashes=(("sha256", "0" * 64),),
    metadata=STATIC,
)
SDIST = replace(
    WINDOWS_WHEEL,
    filename="a-1.0.tar.gz",
    url="http://127.0.0.1:1/a-1.0.tar.gz",
    is_wheel=False,
    tags="",
    sha256="1" * 64,
    hashes=(("sha256", "1" * 64),),
)


def judged(*files: FileRecord) -> tuple[Reason, str] | FileMetadata | None:
    candidate = judge_version("a", Version("1.0"), list(files), RULE, 0, None, LINUX, [])
    assert candidate is not None
    return candidate.unavailable if candidate.unavailable is not None else candidate.metadata


def test_an_sdist_whose_metadata_needs_a_build_never_borrows_a_wheels() -> None:
    needs_build = replace(SDIST, metadata=FileMetadata("needs-build", False))
    assert judged(WINDOWS_WHEEL, needs_build) == (Reason.NEEDS_BUILD, "metadata needs a build")


def test_an_sdist_without_its_own_metadata_lacks_it() -> None:
    unknown = replace(SDIST, metadata=None)
    assert judged(WINDOWS_WHEEL, unknown) == (
        Reason.METADATA_MISSING,
        "metadata not in the snapshot",
    )


def test_an_sdist_with_static_metadata_uses_its_own() -> None:
    own = FileMetadata("sdist-static", True, ("c",))
    assert judged(WINDOWS_WHEEL, replace(SDIST, metadata=own)) == own


def test_a_wheel_borrows_the_releases_metadata() -> None:
    linux = replace(
        WINDOWS_WHEEL,
        filename="a-1.0-py3-none-any.whl",
        tags="py3-none-any",
        metadata=None,
    )
    assert judged(WINDOWS_WHEEL, linux) == STATIC


def test_a_file_named_for_another_project_is_never_the_projects() -> None:
    """A snapshot from elsewhere (an old bundle, a hand-edited database) may hold bar's files on
    foo's page; the sync leaves them out, and the resolver refuses them too."""
    linux = replace(WINDOWS_WHEEL, filename="a-1.0-py3-none-any.whl", tags="py3-none-any", url="x")
    assert judged(linux) == STATIC
    other_wheel = replace(linux, filename="b-1.0-py3-none-any.whl")
    other_sdist = replace(SDIST, filename="a-b-1.0.tar.gz")
    for other in (other_wheel, other_sdist):
        assert judged(other) == (Reason.OTHER_PROJECT, f"{other.filename} is not a file of a")
    assert judged(other_wheel, linux) == STATIC
    assert judged(replace(SDIST, filename="A-1.0.zip")) == STATIC  # PEP 503 normalisation
