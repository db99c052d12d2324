"""The page for people: a thing's URL opened in a browser, and the index of all things.

The HTML is a small shell; ``static/page.js`` reads the Thing Description and draws a
control for each property by its schema, kept live over the thing's websocket. Everything
is served by the server itself (no CDN: a device may have no internet).

The page works under any path prefix a reverse proxy adds (the WebThings gateway shows it
through ``/proxy/<device-id>/...``): every URL in the shell is relative to the page, and the
script derives the server's paths from where the page was loaded (``data-path`` is the
page's path as the server sees it; whatever the browser's path has in front of it is the
proxy's prefix).
"""

from __future__ import annotations

import html
import posixpath
from pathlib import Path

from quart import Blueprint, Response, current_app, request, send_from_directory

from ..errors import NotFound
from .asgi import TRAILING_SLASH
from .state import AppState, ServedThing, app_state

HTML = "text/html"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ASSETS = frozenset({"page.js", "page.css", "icon.svg"})
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
<link rel="icon" href="{assets}icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{assets}page.css">
<script src="{assets}page.js" defer></script>
</head>
<body data-source="{source}" data-path="{path}" data-index="{index}">
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


def relative(target: str, page: str) -> str:
    """The server path ``target`` as a reference relative to the page at server path ``page``.

    Resolved by the browser against the page's own URL, it reaches ``target`` whatever
    prefix a proxy put in front of both.
    """
    directory = page if page.endswith("/") else page.rsplit("/", 1)[0] + "/"
    reference = posixpath.relpath(target, directory)
    if target.endswith("/") and not reference.endswith("/"):
        reference += "/"
    if ":" in reference.split("/", 1)[0]:
        reference = "./" + reference  # not to be read as a scheme
    return reference


def page_path() -> str:
    """The current request's path as the client sent it (its trailing slash included)."""
    path = request.path
    if request.scope.get(TRAILING_SLASH) and path != "/":
        path += "/"
    return path


def render_shell(
    state: AppState, *, title: str, source: str, index: str | None, page: str | None = None
) -> str:
    """The HTML shell for the things at ``source``: one thing's page (with a link to the
    ``index`` when there is one), or the index itself (``index=None``). ``page`` is the path
    the page was asked for (default: ``source``); every URL in the shell is relative to it."""
    page = page or source
    single = source != index_path(state) or not state.multiple
    nav = ""
    if index is not None:
        nav = f'<nav><a href="{html.escape(relative(index, page))}">← All things</a></nav>'
    return _SHELL.format(
        title=html.escape(title),
        # A thing's page is headed by its card; the index by the collection's name.
        heading="" if single else f"<h1>{html.escape(title)}</h1>",
        layout=" single" if single else "",
        assets=html.escape(relative(asset_base(state) + "/", page)),
        source=html.escape(relative(source, page)),
        path=html.escape(source),
        index=html.escape(relative(index, page) if index is not None else ""),
        nav=nav,
    )


def html_response(body: str) -> Response:
    """An HTML response that a cache keeps apart from the JSON of the same URL."""
    response = Response(body, content_type="text/html; charset=utf-8")
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = "no-cache"
    response.headers.update(SECURITY_HEADERS)
    return response


async def thing_page(served: ServedThing) -> Response:
    """The page of one thing (its URL asked for as ``text/html``)."""
    state = app_state(current_app)
    index = index_path(state) if state.multiple else None
    return html_response(
        render_shell(
            state, title=served.thing.title, source=served.path, index=index, page=page_path()
        )
    )


async def index_page() -> Response:
    """The page listing every thing, each drawn with its controls."""
    state = app_state(current_app)
    name = state.collection.name or "Things"
    return html_response(
        render_shell(state, title=name, source=index_path(state), index=None, page=page_path())
    )


async def asset(filename: str) -> Response:
    """One of the page's static files."""
    if filename not in ASSETS:
        raise NotFound(f"no page asset {filename!r}")
    response = await send_from_directory(STATIC_DIR, filename)
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
