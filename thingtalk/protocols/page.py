"""The page for people: a thing's URL opened in a browser, and the index of all things.

The HTML is a small shell; ``static/page.js`` reads the Thing Description and draws a
control for each property by its schema, kept live over the thing's websocket. Everything
is served by the server itself (no CDN: a device may have no internet).
"""

from __future__ import annotations

import hashlib
import html
import posixpath
from pathlib import Path
from urllib.parse import quote

from quart import Blueprint, Response, current_app, request

from ..errors import NotFound
from .asgi import SENT_PATH_KEY
from .state import AppState, ServedThing, app_state

HTML = "text/html"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ASSETS = {
    "page.js": "text/javascript; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}
ASSET_PREFIX = "/_page"

# The page needs nothing from elsewhere; saying so keeps injected content from loading any.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_SHELL = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{title}</title>
<link rel="icon" href="{assets}/icon.svg{query}" type="image/svg+xml">
<link rel="stylesheet" href="{assets}/page.css{query}">
<script src="{assets}/page.js{query}" defer></script>
</head>
<body data-source="{source}" data-index="{index}">
<header class="top{layout}">{heading}{nav}</header>
<main id="things" class="{layout}"><p class="loading">Loading…</p></main>
<noscript><p class="notice">This page needs JavaScript. The Thing Description is at
<a href="{source}">{source}</a> (ask for <code>application/json</code>).</p></noscript>
</body>
</html>
"""


def asset_base(state: AppState) -> str:
    """Where the static files are served: ``<base path>/_page``."""
    return state.options.base_path.rstrip("/") + ASSET_PREFIX


def index_path(state: AppState) -> str:
    """The URL path of the list of all things."""
    return state.options.base_path.rstrip("/") or "/"


def relative(path: str, sent_path: str) -> str:
    """``path`` relative to a page at ``sent_path``, so that the page also works where a proxy
    serves it under a prefix of its own (the WebThings gateway's ``/proxy/<thing>/``):
    ``/_page`` from ``/0`` is ``_page``, from ``/0/`` ``../_page``; ``/`` from ``/0`` is ``.``."""
    folder = sent_path if sent_path.endswith("/") else posixpath.dirname(sent_path) or "/"
    return posixpath.relpath(path, folder)


def render_shell(
    state: AppState,
    *,
    title: str,
    source: str,
    index: str | None,
    assets: str | None = None,
    query: str = "",
    index_href: str | None = None,
) -> str:
    """The HTML shell for the things at ``source``: one thing's page (with a link to the
    ``index`` when there is one), or the index itself (``index=None``). ``assets`` is where
    the page's files are (relative to the page; the asset base path by default), ``query``
    what their URLs carry, and ``index_href`` the link to the index (``index`` by default)."""
    single = source != index_path(state) or not state.multiple
    nav = ""
    if index is not None:
        href = (index_href or index) + query
        nav = f'<nav><a href="{html.escape(href)}">← All things</a></nav>'
    return _SHELL.format(
        title=html.escape(title),
        # A thing's page is headed by its card; the index by the collection's name.
        heading="" if single else f"<h1>{html.escape(title)}</h1>",
        layout=" single" if single else "",
        assets=html.escape(assets or asset_base(state)),
        query=html.escape(query),
        source=html.escape(source),
        index=html.escape(index or ""),
        nav=nav,
    )


def html_response(body: str) -> Response:
    """An HTML response that a cache keeps apart from the JSON of the same URL."""
    response = Response(body, content_type="text/html; charset=utf-8")
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = "no-cache"
    response.headers.update(SECURITY_HEADERS)
    return response


def _links_here(state: AppState) -> dict[str, str]:
    """Where the page just asked for finds its files and the index, relative to itself.
    Behind the WebThings gateway's proxy every request must carry the gateway's token
    (``?jwt=``), so these links carry it too (URL-encoded: it cannot leave the attribute)."""
    sent_path = str(request.scope.get(SENT_PATH_KEY) or request.path)
    gateway_token = request.args.get("jwt")
    query = "" if gateway_token is None else f"?jwt={quote(gateway_token, safe='')}"
    return {
        "assets": relative(asset_base(state), sent_path),
        "query": query,
        "index_href": relative(index_path(state), sent_path),
    }


async def thing_page(served: ServedThing) -> Response:
    """The page of one thing (its URL asked for as ``text/html``)."""
    state = app_state(current_app)
    index = index_path(state) if state.multiple else None
    return html_response(
        render_shell(
            state,
            title=served.thing.title,
            source=served.path,
            index=index,
            **_links_here(state),
        )
    )


async def index_page() -> Response:
    """The page listing every thing, each drawn with its controls."""
    state = app_state(current_app)
    name = state.collection.name or "Things"
    return html_response(
        render_shell(state, title=name, source=index_path(state), index=None, **_links_here(state))
    )


async def asset(filename: str) -> Response:
    """One of the page's static files."""
    if filename not in ASSETS:
        raise NotFound(f"no page asset {filename!r}")
    # Read whole (a few KiB) rather than streamed from an open file: a client that leaves
    # before the body went out (or a server that stops) leaves no file open behind.
    body = (STATIC_DIR / filename).read_bytes()
    response = Response(body, content_type=ASSETS[filename])
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    await response.make_conditional(request)  # 304 for a matching If-None-Match
    # Revalidated each time (ETag): an upgraded server never runs yesterday's script.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def blueprint(state: AppState) -> Blueprint:
    """The page: ``text/html`` on each thing's URL and on the list of things (JSON clients
    such as the gateway still get the TDs there), and the static files."""
    bp = Blueprint("page", __name__)
    state.representations[HTML] = thing_page
    if state.multiple:
        state.index_representations[HTML] = index_page
    bp.add_url_rule(f"{asset_base(state)}/<filename>", "asset", asset, methods=["GET"])
    return bp
