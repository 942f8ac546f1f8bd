"""A disk that fills during a sync ends it with `error:` and `hint:`, nothing half-written:
the database stays sound, and the same sync run later completes. The child runs with a small
RLIMIT_FSIZE (SIGXFSZ ignored, so writes fail with EFBIG as they would with ENOSPC): SQLite
reports it as it reports a full disk, and no test machine needs a full filesystem."""

from __future__ import annotations

import resource
import signal
import subprocess

import pytest

from tests.conftest import Mirror
from tests.fixtures.index_server import FixtureIndex, make_project, serve_in_thread
from tests.resolve.endtoend import source_command, source_env

PROJECTS = [f"p{n}" for n in range(300)]


@pytest.mark.slow
def test_a_full_disk_ends_the_sync_cleanly_and_a_later_sync_completes(mirror: Mirror) -> None:
    index = FixtureIndex()
    for name in PROJECTS:
        make_project(index, name, ["1.0", "2.0"])
    with serve_in_thread(index) as url:
        mirror.run("index", "add", "one", url, "--default")
        room = mirror.db.stat().st_size + 64 * 1024

        def small_disk() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (room, room))

        env = source_env(mirror)
        env.pop("SNEAKERNET_DEBUG")  # what a user sees, not the tests' tracebacks
        full = subprocess.run(
            [*source_command("mirror"), "--db", str(mirror.db), "sync", *PROJECTS],
            env=env,
            preexec_fn=small_disk,
            capture_output=True,
            text=True,
            check=False,
        )
        assert full.returncode == 2, full.stderr
        assert full.stderr.startswith(f"error: cannot use the database {mirror.db}: ")
        assert "hint: check the file, its directory's permissions and the free disk space" in (
            full.stderr
        )
        assert "Traceback" not in full.stderr
        assert "ok:" in mirror.run("db", "check").output
        assert mirror.sql("SELECT count(*) FROM snapshot WHERE state = 'complete'") == [(0,)]

        mirror.sync(*PROJECTS)
    assert mirror.sql("SELECT count(*) FROM snapshot WHERE state = 'complete'") == [(1,)]
