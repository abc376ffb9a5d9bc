"""Front-end files of the maps, served locally: no map loads anything from the internet.

folium and its plugins name their JavaScript and CSS by CDN URLs. The same packages are
installed by npm into ``node_modules/`` (see ``package.json``) and served by the app at
``/vendor/<name>/<file>``. :func:`localize` rewrites every asset of a map to those local
URLs before it is rendered, and fails loudly on a URL it does not know (a new folium
version or plugin: add the package to ``package.json`` and its pattern to
:data:`CDN_ASSETS`). :func:`check_offline` verifies rendered HTML, and :func:`inline`
puts the files' contents into the HTML for a standalone file that opens anywhere.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from collections.abc import Iterator
from pathlib import Path

from branca.element import CssLink, Element, Figure, JavascriptLink

from core.settings import PROJECT_ROOT

NODE_MODULES = PROJECT_ROOT / "node_modules"
#: The app's own scripts; :func:`static_script` gives one to a map that must carry it inline.
STATIC_DIR = PROJECT_ROOT / "app" / "static"
VENDOR_PREFIX = "/vendor/"

#: What the app serves at /vendor/<name>/: the folder of each npm package under node_modules.
VENDOR_DIRS: dict[str, str] = {
    "leaflet": "leaflet/dist",
    "jquery": "jquery/dist",
    "bootstrap": "bootstrap/dist",
    "fontawesome": "@fortawesome/fontawesome-free",
    "leaflet.awesome-markers": "leaflet.awesome-markers/dist",
    "leaflet.markercluster": "leaflet.markercluster/dist",
    "leaflet.heat": "leaflet.heat/dist",
    "protomaps-leaflet": "protomaps-leaflet/dist",
}

#: CDN URLs used by folium and its plugins (a pattern on the URL's end) -> the local file
#: ``(vendor name, path)``, or None for a file no map of ours needs (left out).
CDN_ASSETS: list[tuple[re.Pattern[str], tuple[str, str] | None]] = [
    (re.compile(p), target)
    for p, target in [
        (r"/leaflet@[\d.]+/dist/leaflet\.js$", ("leaflet", "leaflet.js")),
        (r"/leaflet@[\d.]+/dist/leaflet\.css$", ("leaflet", "leaflet.css")),
        (r"/jquery-3\.[\d.]+\.min\.js$", ("jquery", "jquery.min.js")),
        (r"/bootstrap@5\.[\d.]+/dist/js/bootstrap\.bundle\.min\.js$", ("bootstrap", "js/bootstrap.bundle.min.js")),
        (r"/bootstrap@5\.[\d.]+/dist/css/bootstrap\.min\.css$", ("bootstrap", "css/bootstrap.min.css")),
        (r"/@fortawesome/fontawesome-free@6\.[\d.]+/css/all\.min\.css$", ("fontawesome", "css/all.min.css")),
        (
            r"/Leaflet\.awesome-markers/2\.[\d.]+/leaflet\.awesome-markers\.js$",
            ("leaflet.awesome-markers", "leaflet.awesome-markers.js"),
        ),
        (
            r"/Leaflet\.awesome-markers/2\.[\d.]+/leaflet\.awesome-markers\.css$",
            ("leaflet.awesome-markers", "leaflet.awesome-markers.css"),
        ),
        (
            r"/leaflet\.markercluster/1\.[\d.]+/leaflet\.markercluster\.js$",
            ("leaflet.markercluster", "leaflet.markercluster.js"),
        ),
        (r"/leaflet\.markercluster/1\.[\d.]+/MarkerCluster\.css$", ("leaflet.markercluster", "MarkerCluster.css")),
        (
            r"/leaflet\.markercluster/1\.[\d.]+/MarkerCluster\.Default\.css$",
            ("leaflet.markercluster", "MarkerCluster.Default.css"),
        ),
        (r"/folium@main/folium/templates/leaflet_heat\.min\.js$", ("leaflet.heat", "leaflet-heat.js")),
        # Bootstrap 3 glyph icons and folium's rotation rule for awesome markers: only for
        # folium.Icon(prefix="glyphicon") and rotated icons, which no map of ours uses.
        (r"/bootstrap/3\.0\.0/css/bootstrap-glyphicons\.css$", None),
        (r"/folium/templates/leaflet\.awesome\.rotate\.min\.css$", None),
    ]
]


class UnknownAsset(RuntimeError):
    """A map names a front-end file that is not installed locally."""


def local_url(url: str) -> str | None:
    """The local URL of a CDN asset, None if it is not needed; raises :class:`UnknownAsset`."""
    if url.startswith(VENDOR_PREFIX):
        return url
    for pattern, target in CDN_ASSETS:
        if pattern.search(url):
            return None if target is None else f"{VENDOR_PREFIX}{target[0]}/{target[1]}"
    raise UnknownAsset(
        f"The map needs {url}, which is not installed locally: add its npm package to package.json, "
        "run npm install, and map the URL in geo/assets.py (CDN_ASSETS)."
    )


def vendor_path(name: str, path: str) -> Path | None:
    """The file behind ``/vendor/<name>/<path>``, or None when there is no such file."""
    folder = VENDOR_DIRS.get(name)
    if folder is None:
        return None
    root = (NODE_MODULES / folder).resolve()
    try:
        target = (root / path).resolve()
        if root not in target.parents or not target.is_file():
            return None
    except (OSError, ValueError):  # a name too long for the file system, or one holding a NUL: no such file
        return None
    return target


def static_script(name: str) -> str:
    """The text of the app's own script ``app/static/<name>`` (for a map document that holds it inline)."""
    return (STATIC_DIR / name).read_text(encoding="utf-8").replace("</script", "<\\/script")


def _walk(element: Element) -> Iterator[Element]:
    yield element
    if isinstance(element, Figure):  # its header, body and script are attributes, not children
        for part in (element.header, element.html, element.script):
            yield from _walk(part)
    for child in list(element._children.values()):
        yield from _walk(child)


def localize(element: Element) -> None:
    """Point every asset of the map holding ``element`` at its local copy (in place).

    Links to files no map needs are removed; an unknown URL raises :class:`UnknownAsset`.
    """
    for child in _walk(element.get_root()):
        for attribute in ("default_js", "default_css"):
            assets = getattr(child, attribute, None)
            if assets:
                setattr(
                    child, attribute, [(name, local) for name, url in assets if (local := local_url(url)) is not None]
                )
        for name, link in list(child._children.items()):
            if isinstance(link, (JavascriptLink, CssLink)):
                local = local_url(link.url)
                if local is None:
                    del child._children[name]
                else:
                    link.url = local


# What makes a page load something: a src attribute, a stylesheet or other <link>, a CSS
# url() or @import (a plain <a href> is a link a person may follow, not a load).
_EXTERNAL = re.compile(
    r"""\bsrc\s*=\s*["']?\s*(?:https?:)?//|<link\b[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//"""
    r"""|url\(\s*["']?\s*(?:https?:)?//|@import\s+["']\s*(?:https?:)?//""",
    re.I,
)


def external_references(html: str) -> list[str]:
    """The places where ``html`` would load something from another host (src, link, CSS url() and @import)."""
    return [html[max(0, m.start() - 40) : m.end() + 60] for m in _EXTERNAL.finditer(html)]


def check_offline(html: str) -> str:
    """``html`` unchanged if it loads nothing from another host, else :class:`UnknownAsset`."""
    found = external_references(html)
    if found:
        raise UnknownAsset(f"The map would load from outside the app: {found[0]!r}")
    return html


_SCRIPT = re.compile(r'<script\s+src="(/vendor/[^"]+)"\s*>\s*</script>')
_STYLESHEET = re.compile(r'<link\s+rel="stylesheet"\s+href="(/vendor/[^"]+)"\s*/?>')
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(?!data:|#)([^'")]+)\1\s*\)""")


def _vendor_file(url: str) -> Path:
    name, _, path = url[len(VENDOR_PREFIX) :].partition("/")
    found = vendor_path(name, path)
    if found is None:
        raise UnknownAsset(f"{url} is not installed: run scripts/install.sh (npm ci).")
    return found


def _data_uri(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or {".woff2": "font/woff2", ".ttf": "font/ttf"}.get(
        path.suffix, "application/octet-stream"
    )
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(path: Path) -> str:
    css = path.read_text(encoding="utf-8")

    def embed(match: re.Match[str]) -> str:
        target = (path.parent / match.group(2).split("?")[0].split("#")[0]).resolve()
        if not target.is_file():
            return match.group(0)
        return f'url("{_data_uri(target)}")'

    return _CSS_URL.sub(embed, css)


def inline(html: str) -> str:
    """``html`` with its local scripts and stylesheets (and their images and fonts) written into it."""

    def script(match: re.Match[str]) -> str:
        code = _vendor_file(match.group(1)).read_text(encoding="utf-8")
        return "<script>" + code.replace("</script", "<\\/script") + "</script>"

    def stylesheet(match: re.Match[str]) -> str:
        return "<style>" + _inline_css(_vendor_file(match.group(1))).replace("</style", "<\\/style") + "</style>"

    html = _SCRIPT.sub(script, html)
    html = _STYLESHEET.sub(stylesheet, html)
    if "/vendor/" in re.sub(r"<script>.*?</script>|<style>.*?</style>", "", html, flags=re.S):
        raise UnknownAsset("A local asset of the map could not be inlined.")
    return html
