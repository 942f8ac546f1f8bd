"""The HTTP connections of `mirror serve`: requests the parser refuses, and the access log.

aiohttp's parser stops at its limits on the request line and on each header field; its own
answer is 400 and a traceback in the log ("Error handling request"), for what is the client's
mistake. Here such a request gets the status made for it, RFC 9110 §15.5.15 414 URI Too Long
for the request line and RFC 6585 §5 431 Request Header Fields Too Large for a header field
(or too many of them), and any other malformed request a plain 400; the access log's line is
the only trace. Every access log line has URL passwords masked, as all output has.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler

from db.urls import redact_credentials

__all__ = ["MAX_HEADER_FIELD", "MAX_REQUEST_LINE", "ServeRunner", "access_log"]

#: Bytes of the request line: aiohttp's default (and Apache's LimitRequestLine). Package
#: index URLs are short; a longer line is a mistake or an attack.
MAX_REQUEST_LINE = 8190
#: Bytes of one header field: room for large tokens (cookies, bearer tokens), and unlike the
#: request line's, so that the parser's error says which of the two overflowed.
MAX_HEADER_FIELD = 16384

# What the parser reports of an overflowing request line: its target ("/…", "http://…", "*")
# from the compiled parser, the line itself ("GET /…") from the pure-Python one. A header
# field is reported as its name, its value, or "Name: value".
_REQUEST_LINE = re.compile(rb"[/*]|[A-Za-z][A-Za-z0-9+.-]*://|[!#$%&'*+.^_`|~0-9A-Za-z-]+ ")


def _refusal(exc: BaseException | None) -> tuple[int, str] | None:
    """The status and text for a request the parser refused; None for anything else (a
    handler's failure stays aiohttp's 500, with its traceback: that is a bug)."""
    if not isinstance(exc, HttpProcessingError):
        return None
    if isinstance(exc, LineTooLong):
        line, limit = exc.args[0], exc.args[1]
        shown = line.encode("latin-1", "replace") if isinstance(line, str) else bytes(line)
        if limit != MAX_HEADER_FIELD and _REQUEST_LINE.match(shown):
            return 414, f"the request line is longer than {MAX_REQUEST_LINE} bytes"
        return 431, f"a header field is longer than {MAX_HEADER_FIELD} bytes"
    if "too many headers" in exc.message.lower():
        return 431, "too many header fields"
    return 400, f"malformed request: {exc.message}"


class _Connection(RequestHandler):
    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        refused = _refusal(exc)
        if refused is None:
            return super().handle_error(request, status, exc, message)
        status, text = refused
        response = web.Response(status=status, text=text + "\n")
        response.force_close()  # what follows on this connection cannot be trusted
        return response


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return _Connection(self, loop=self._loop, **self._kwargs)


class ServeRunner(web.AppRunner):
    """An AppRunner whose connections answer 414 and 431 as the module says, with the limits
    above and the access log on stderr."""

    def __init__(self, app: web.Application) -> None:
        super().__init__(
            app,
            access_log=access_log(),
            max_line_size=MAX_REQUEST_LINE,
            max_field_size=MAX_HEADER_FIELD,
        )

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        return _Server(
            made.request_handler,
            request_factory=made.request_factory,
            handler_cancellation=made.handler_cancellation,
            loop=asyncio.get_running_loop(),
            **made._kwargs,
        )


class _Masked(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact_credentials(super().format(record))


def access_log() -> logging.Logger:
    """aiohttp's access logger, writing to stderr (stdout stays free for data)."""
    logger = logging.getLogger("aiohttp.access")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_Masked())
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger
