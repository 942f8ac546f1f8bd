"""Typed values exchanged between the parsers (``mirror``) and the store (``db``).

They are plain frozen data: the parsers build them from HTTP bodies, the snapshot writer stores
them, and nothing here knows SQL or HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "CoreMetadata",
    "DistFile",
    "FetchedPage",
    "MetadataSource",
    "PreviousPage",
    "ProjectPage",
]


@dataclass(frozen=True, slots=True)
class DistFile:
    """One distribution file as a project page lists it (PEP 503 anchor or PEP 691 file dict).

    ``version`` is the version string taken from the filename, kept raw; ``version_valid`` says
    whether PEP 440 accepts it. ``tags`` is the compressed wheel tag triple(s) from the filename
    (``py3-none-any``), empty for an sdist. ``core_metadata`` follows PEP 658/714: ``None`` when
    the index does not offer a ``.metadata`` file, otherwise a mapping of hash name to hex digest,
    empty when the index offers it without a hash.
    """

    filename: str
    url: str
    project: str
    version: str
    version_valid: bool
    is_wheel: bool
    tags: str
    hashes: tuple[tuple[str, str], ...]
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    upload_time: str | None = None
    size: int | None = None
    core_metadata: tuple[tuple[str, str], ...] | None = None
    provenance: str | None = None

    @property
    def sha256(self) -> str | None:
        return dict(self.hashes).get("sha256")


@dataclass(frozen=True, slots=True)
class ProjectPage:
    """A parsed project page (PEP 691 JSON or PEP 503 HTML)."""

    name: str
    api_version: str
    files: tuple[DistFile, ...]
    versions: tuple[str, ...] = ()
    project_status: str | None = None
    project_status_reason: str | None = None
    last_serial: int | None = None
    warnings: tuple[str, ...] = ()


MetadataSource = str
"""How core metadata was obtained: ``pep658``, ``range``, ``download``, ``sdist-static``,
or why it was not: ``needs-build``, ``invalid`` (the file's metadata is unreadable or wrong),
``failed`` (the index did not give it: an error status, a timeout)."""

#: Outcomes a later sync tries again rather than carrying over.
RETRIED_SOURCES = ("invalid", "failed")


@dataclass(frozen=True, slots=True)
class CoreMetadata:
    """The fields of a core metadata file (METADATA / PKG-INFO) that resolution needs."""

    name: str
    version: str
    metadata_version: str
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    provides_extra: tuple[str, ...] = ()
    dynamic: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """What a fetch of one (index, project) page produced, before it is stored."""

    status: int
    content_type: str | None = None
    body: bytes | None = None
    final_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    parsed: ProjectPage | None = None


@dataclass(frozen=True, slots=True)
class PreviousPage:
    """The stored state of a page in an earlier snapshot, for conditional requests and for
    recognising the same body sent again (``blob_sha256``: the sha256 of the raw body)."""

    page_id: int
    status: int
    etag: str | None
    last_modified: str | None
    serial: int | None
    failed: bool
    blob_sha256: str | None = None
    content_type: str | None = None
    final_url: str | None = None
