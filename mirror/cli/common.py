"""Shared click plumbing: the database option, domain errors at the edge, JSON output."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click
from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc

from db.engine import database_url, open_engine
from db.errors import DatabaseError, SneakernetError
from db.paths import shown_database
from db.urls import redact_credentials
from mirror.http.responses import ClientConfig
from resolve.clikit import echo_json, fail, limit_option, warn
from resolve.limits import Limits

__all__ = [
    "AppContext",
    "client_config",
    "concurrency_option",
    "echo_json",
    "fail",
    "handle_errors",
    "json_option",
    "limit_option",
    "pass_app",
    "read_timeout_option",
    "timeout_options",
    "warn",
]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(slots=True)
class AppContext:
    db: str | None = None
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return database_url(self.db)

    def engine(self, *, create: bool = True) -> Engine:
        if self._engine is None:
            self._engine = open_engine(self.url, create=create)
        return self._engine


pass_app = click.make_pass_decorator(AppContext, ensure=True)

#: Options shared by the commands that talk to indexes (sqlite-utils' habit: one decorator
#: per option, so every command spells and documents it the same way).
concurrency_option = click.option(
    "--concurrency",
    # Measured on a loopback index with 30 ms per request (bench/sync_uv_bench.py): a
    # resolver-driven sync of 150 projects took 4.6 s at 4, 3.3 s at 8, 3.1 s at 16 and 3.4 s
    # at 32; past 16 a host only queues more.
    default=16,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Requests in flight per host.",
)


_DEFAULTS = ClientConfig()


def read_timeout_option(func: F) -> F:
    """``--read-timeout``: seconds of silence on any connection, downloads included."""
    return click.option(
        "--read-timeout",
        default=_DEFAULTS.read_timeout,
        show_default=True,
        type=click.FloatRange(min=0.1),
        help="Seconds without a byte before a request is given up (and retried).",
    )(func)


def timeout_options(func: F) -> F:
    """``--timeout`` (one page or metadata file, retries included) and ``--read-timeout``."""
    return click.option(
        "--timeout",
        default=_DEFAULTS.total_timeout,
        show_default=True,
        type=click.FloatRange(min=0.1),
        help="Seconds for one page or metadata file, retries included; then it is failed.",
    )(read_timeout_option(func))


def client_config(
    concurrency: int, read_timeout: float, limits: Limits, timeout: float | None = None
) -> ClientConfig:
    """The HTTP client's settings, built once from the command line (``timeout`` where the
    command has pages or metadata files to bound)."""
    return ClientConfig(
        concurrency_per_host=concurrency,
        total_timeout=_DEFAULTS.total_timeout if timeout is None else timeout,
        read_timeout=read_timeout,
        limits=limits,
    )


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Machine-readable output: JSON on stdout."
)


def storage_error(exc: sa_exc.DBAPIError, url: str | None) -> DatabaseError | None:
    """SQLite's own failures (a damaged file, a lock held too long, a full disk) as a domain
    error naming the database; None for errors that are bugs in our SQL (constraint, syntax)."""
    where = shown_database(url) if url else "the database"
    # PostgreSQL's insufficient_privilege: a role that may read but not write (SQLSTATE 42501).
    if getattr(exc.orig, "sqlstate", None) == "42501":
        return DatabaseError(
            f"cannot write to the database {where}: {redact_credentials(str(exc.orig)).strip()}",
            hint="this command writes: connect as a role with INSERT, UPDATE and DELETE on the "
            "tables (a role that may only SELECT is enough for `resolve` and `mirror serve`)",
        )
    if isinstance(exc, sa_exc.IntegrityError | sa_exc.ProgrammingError | sa_exc.InterfaceError):
        return None
    if not isinstance(exc, sa_exc.OperationalError) and type(exc) is not sa_exc.DatabaseError:
        return None
    reason = str(exc.orig) if exc.orig is not None else str(exc)
    lowered = reason.lower()
    if "malformed" in lowered or "not a database" in lowered:
        hint = (
            "the file is damaged: `mirror db check` lists the damage; restore it from a backup "
            "or an exported snapshot (`mirror import`)"
        )
    elif "locked" in lowered or "busy" in lowered:
        hint = "another process is writing to it; run the command again when it has finished"
    else:
        hint = "check the file, its directory's permissions and the free disk space"
    return DatabaseError(f"cannot use the database {where}: {reason}", hint=hint)


def handle_errors(func: F) -> F:
    """Domain errors become ``error:``/``hint:`` and the documented exit code; a bug becomes
    one line pointing at SNEAKERNET_DEBUG, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SneakernetError as exc:
            fail(exc.message, hint=exc.hint, code=exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except BrokenPipeError:
            raise  # stdout's reader has gone: the top-level group exits 141, quietly
        except Exception as exc:
            if os.environ.get("SNEAKERNET_DEBUG"):
                raise
            if isinstance(exc, sa_exc.DBAPIError):
                app = next((a for a in args if isinstance(a, AppContext)), None)
                error = storage_error(exc, app.url if app is not None else None)
                if error is not None:
                    fail(error.message, hint=error.hint, code=error.exit_code)
            fail(
                f"unexpected {type(exc).__name__}: {exc}",
                hint="this is a bug in sneakernet; rerun with SNEAKERNET_DEBUG=1 for details",
                code=70,
            )

    return wrapper  # type: ignore[return-value]
