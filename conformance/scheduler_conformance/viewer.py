"""Lesson 3.6's viewer: GET /docs must be an HTML page that loads its scripts and styles from
the server itself (no CDN), and that shows the server's OpenAPI document."""

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from scheduler_conformance.registry import expect, expect_status
from scheduler_conformance.world import World

# (tag, attribute) pairs that make a browser load something.
LOADS = {("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"), ("source", "src")}


class Loads(HTMLParser):
    """Collects what a page loads: (tag, URL) per element, in document order."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note each URL the element loads."""
        for name, value in attrs:
            if (tag, name) in LOADS and value:
                self.found.append((tag, value.strip()))


def origin(url: str) -> tuple[str, str]:
    """The scheme and host:port of a URL."""
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def expect_self_contained_viewer(world: World) -> None:
    """Fail unless /docs is HTML with at least one script, every script, style and image of
    it from the page's own origin and loading, and the page or its scripts pointing at
    openapi.json."""
    page = world.anonymous.get("/docs", headers={"Accept": "text/html"})
    expect_status(page, 200)
    expect(page.media_type == "text/html", "expected Content-Type text/html", page)
    parser = Loads()
    html = page.body.decode("utf-8", errors="replace")
    parser.feed(html)
    scripts = [url for tag, url in parser.found if tag == "script"]
    expect(scripts, "the page has no script: it is no interactive viewer", page)
    texts = [html]
    for tag, url in parser.found:
        if url.startswith("data:"):
            continue
        absolute = urljoin(page.exchange.url, url)
        expect(
            origin(absolute) == origin(page.exchange.url),
            f"the page loads {absolute} from another origin (a CDN?)",
            page,
        )
        if tag in ("script", "link"):
            reply = world.anonymous.send("GET", absolute, headers={"Accept": "*/*"})
            expect_status(reply, 200)
            texts.append(reply.body.decode("utf-8", errors="replace"))
    expect(
        any("openapi.json" in text for text in texts),
        "neither the page nor its scripts point at openapi.json",
        page,
    )
