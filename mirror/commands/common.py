"""Shared click plumbing: the database option, domain errors at the edge, JSON output."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click
from sqlalchemy import Engine

from db.engine import database_url, open_engine
from db.errors import SneakernetError

__all__ = [
    "AppContext",
    "echo_json",
    "fail",
    "handle_errors",
    "pass_app",
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


def render_error(message: str, hint: str | None) -> str:
    text = f"error: {message}"
    if hint:
        text += f"\n\nhint: {hint}"
    return text


def fail(message: str, *, hint: str | None = None, code: int = 2) -> None:
    click.echo(render_error(message, hint), err=True)
    sys.exit(code)


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def handle_errors(func: F) -> F:
    """Domain errors become ``error:``/``hint:`` and the documented exit code; a bug becomes
    one line pointing at SNEAKERNET_DEBUG, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SneakernetError as exc:
            fail(exc.message, hint=exc.hint, code=exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", hint="run the same command again to resume", code=130)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:
            if os.environ.get("SNEAKERNET_DEBUG"):
                raise
            fail(
                f"unexpected {type(exc).__name__}: {exc}",
                hint="this is a bug in sneakernet; rerun with SNEAKERNET_DEBUG=1 for details",
                code=70,
            )

    return wrapper  # type: ignore[return-value]


def echo_json(value: object) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True))
