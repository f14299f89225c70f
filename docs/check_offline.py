"""Fail when the built guide would load anything from outside the site.

Usage: python docs/check_offline.py SITE_DIR   (`nox -s docs` runs it after the build)

The guide must work with no network at all: in a classroom without internet, and without
telling a third party who reads it. So every page, stylesheet and script in the built site is
searched for an absolute URL (http:, https: or protocol-relative //) that a browser would
*load*: a stylesheet, preload or icon link, a script, image, frame or media source, a CSS
@import or url(), or an address in a script. Links a reader may follow (<a href>) are fine.

Scripts are searched for quoted http(s) addresses only, which catches the usual ways a
script loads (a script element, fetch, import). mkdocs-material's bundle holds a few that it
loads only in situations this guide is never in: GUARDED_SCRIPT_URLS lists them, each with
its reason and a check on the built site that the situation still does not arise.

The vendored Swagger UI bundle (the API reference page, lesson 3.6) is a different case: it
is full of addresses that are only strings (React's error decoder, licence notices, JSON
Schema identifiers) and it is configured to load nothing but the site's own openapi.json.
Its text is not searched (VENDORED_SCRIPTS); the page that loads it still is, and a headless
browser run confirmed it asks nothing of other hosts.
"""

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

EXTERNAL = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)
SCRIPT_URL = re.compile(r"""["'`](https?://[^"'`\s]+)""", re.IGNORECASE)
# Link relations that name a page to go to, not a resource the browser fetches.
NAVIGATION_RELS = {"canonical", "alternate", "next", "prev", "author", "license", "help"}
# Attributes whose value the browser fetches, on whatever element carries them.
FETCHED_ATTRIBUTES = {"src", "poster", "data", "background"}
# XML namespace names are identifiers that look like addresses; nothing is fetched.
XML_NAMESPACE = re.compile(r"^http://www\.w3\.org/(?:\d{4}/|XML/)")
VENDORED_MERMAID = re.compile(r'<script src="[^"]*assets/javascripts/mermaid\.min\.js"')


def mermaid_is_vendored(pages: dict[Path, str]) -> bool:
    """True when every page loads the guide's own Mermaid, so Material never fetches one."""
    return all(VENDORED_MERMAID.search(html) for html in pages.values())


def no_repository_link(pages: dict[Path, str]) -> bool:
    """True when no page shows a repository link, whose star counts Material would fetch."""
    return not any('data-md-component="source"' in html for html in pages.values())


def always(pages: dict[Path, str]) -> bool:
    """True: the fallback it guards is for browsers the guide does not support."""
    return True


# Addresses in mkdocs-material's bundle that it loads only in a situation the guide never is
# in: the reason, and the check on the built site that confirms it.
GUARDED_SCRIPT_URLS = {
    "https://unpkg.com/mermaid@11/dist/mermaid.min.js": (
        "loaded only when no global `mermaid` exists; mkdocs.yml vendors one on every page",
        mermaid_is_vendored,
    ),
    "https://unpkg.com/resize-observer-polyfill": (
        "loaded only by browsers without ResizeObserver (none since 2020)",
        always,
    ),
    "https://api.github.com/users/${e}": (
        "star and fork counts, fetched only for a repository link (repo_url in mkdocs.yml)",
        no_repository_link,
    ),
    "https://api.github.com/repos/${e}/${t}": (
        "star and fork counts, fetched only for a repository link (repo_url in mkdocs.yml)",
        no_repository_link,
    ),
    "https://${e}/api/v4/projects/${encodeURIComponent(t)}": (
        "the same for a GitLab repository link",
        no_repository_link,
    ),
}


# Vendored third-party bundles whose text is not searched, each with the reason.
VENDORED_SCRIPTS = {
    "assets/swagger-ui/swagger-ui-bundle.js": (
        "Swagger UI 5, configured on the API page to load only the site's openapi.json"
    ),
}


class LoadedURLs(HTMLParser):
    """Collect every URL an HTML page makes the browser load, with the element that loads it."""

    def __init__(self) -> None:
        """Start with no URLs found."""
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []
        self.inside: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record the URLs in one element's attributes that the browser would fetch."""
        values = {name: value or "" for name, value in attrs}
        self.inside = tag
        for name, value in values.items():
            if name in FETCHED_ATTRIBUTES:
                self.found.append((f"<{tag} {name}>", value))
            elif name in {"srcset", "imagesrcset"}:
                self.found += [
                    (f"<{tag} {name}>", entry.split()[0])
                    for entry in value.split(",")
                    if entry.strip()
                ]
            elif name == "style":
                self.found += [(f"<{tag} style>", url) for url in css_urls(value)]
        rels = set(values.get("rel", "").lower().split())
        if tag == "link" and not rels <= NAVIGATION_RELS:
            self.found.append((f"<link rel={values.get('rel')}>", values.get("href", "")))
        # SVG <use>/<image> fetch what they point at; an <a> inside an SVG is a link.
        if tag in {"use", "image", "feimage"}:
            for name in ("href", "xlink:href"):
                if name in values:
                    self.found.append((f"<{tag} {name}>", values[name]))

    def handle_endtag(self, tag: str) -> None:
        """Leave a <style> or <script> element."""
        self.inside = None

    def handle_data(self, data: str) -> None:
        """Search the text of an inline stylesheet or script."""
        if self.inside == "style":
            self.found += [("<style>", url) for url in css_urls(data)]
        elif self.inside == "script":
            self.found += [("<script>", url) for url in SCRIPT_URL.findall(data)]


def css_urls(css: str) -> list[str]:
    """Every address a stylesheet imports or refers to with url()."""
    return [url or imported for url, imported in CSS_URL.findall(css)]


def loaded_urls(path: Path, text: str) -> list[tuple[str, str]]:
    """The URLs one built file loads, each with what loads it."""
    if path.suffix == ".html":
        parser = LoadedURLs()
        parser.feed(text)
        return parser.found
    if path.suffix == ".css":
        return [("CSS", url) for url in css_urls(text)]
    return [("script", url) for url in SCRIPT_URL.findall(text)]


def external_loads(site: Path) -> list[str]:
    """One line per external load in the built site, naming the file, the loader and the URL."""
    files = {
        path: path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(site.rglob("*"))
        if path.suffix in {".html", ".css", ".js"}
    }
    pages = {path: text for path, text in files.items() if path.suffix == ".html"}
    problems = []
    for path, text in files.items():
        if path.relative_to(site).as_posix() in VENDORED_SCRIPTS:
            continue
        for loader, url in loaded_urls(path, text):
            if not EXTERNAL.match(url) or XML_NAMESPACE.match(url):
                continue
            if url in GUARDED_SCRIPT_URLS and loader == "script":
                reason, holds = GUARDED_SCRIPT_URLS[url]
                if holds(pages):
                    continue
                url += f" (no longer guarded: {reason})"
            problems.append(f"{path.relative_to(site)}: {loader} loads {url}")
    return problems


def main() -> int:
    """Check the site folder named on the command line; print what loads from outside."""
    site = Path(sys.argv[1])
    if not (site / "index.html").is_file():
        print(f"{site} is not a built site (no index.html); run mkdocs build first.")
        return 2
    problems = external_loads(site)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} external load(s): the guide must make no network request.")
        return 1
    print(f"{site}: no page, stylesheet or script loads anything from outside the site.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
