"""The console's lists are asked with query strings: a blank value is no filter, and the
links a page writes (the next page, the older rows) carry only the filters that are set.

A browser sends every field of a GET form, the empty ones too (``?channel=&from=``), and
an empty string is no channel and no date; so the console reads a blank value as a value
not given, once for every page (:class:`BlankMeansNotGiven`), and a route never sees one.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

LinkValue = str | int | bool | None
"""What a link's query parameter may hold; ``None``, ``""`` and ``False`` are left out."""


class BlankMeansNotGiven:
    """Console pages are asked without the query's blank values (``channel=``), so a
    filter left empty in a form or a link is no filter rather than a 422.

    The HTTP API under ``/api/`` is left as its clients send it: its parameters are
    documented and checked as typed.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request with the blank query values taken out."""
        query: bytes = scope.get("query_string", b"")
        if scope["type"] == "http" and query and not scope["path"].startswith("/api/"):
            # Raw bytes part by part: every value that is kept stays exactly as sent.
            kept = [part for part in query.split(b"&") if part.partition(b"=")[2]]
            scope = {**scope, "query_string": b"&".join(kept)}
        await self.app(scope, receive, send)


def list_link(path: str, parameters: Mapping[str, LinkValue]) -> str:
    """``path`` with the parameters that are set, in order, as a query string:
    ``list_link("/orders", {"list": "new", "channel": "", "page": 2})`` is
    ``/orders?list=new&page=2``; ``True`` is written ``true``."""
    given = {
        name: "true" if value is True else str(value)
        for name, value in parameters.items()
        if value is not None and value is not False and value != ""
    }
    return f"{path}?{urlencode(given)}" if given else path
