"""GET /docs: the interactive viewer, served with its own files (no CDN: it works offline)."""

import hashlib
import re
from pathlib import Path

import pytest
from helpers import assert_problem

import scheduler

DOCS = "/api/v1/docs"
VIEWER = Path(scheduler.__file__).parent / "viewer"


def test_the_viewer_page_loads_its_files_and_the_document_from_this_app(anonymous_client):
    response = anonymous_client.get(DOCS)

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'data-spec-url="/api/v1/openapi.json"' in page
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "init.js"):
        assert f'"{DOCS}/assets/{asset}"' in page
    assert "<script>" not in page  # nothing inline: the policy below forbids it
    assert "http" not in page


def test_the_viewer_may_load_nothing_from_other_origins(anonymous_client):
    policy = anonymous_client.get(DOCS).headers["Content-Security-Policy"]

    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert "http" not in policy


@pytest.mark.parametrize(
    ("filename", "mimetype"),
    [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("init.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("favicon-32x32.png", "image/png"),
        ("LICENSE", "text/plain"),
    ],
)
def test_each_viewer_file_is_served_with_its_type(anonymous_client, filename, mimetype):
    response = anonymous_client.get(f"{DOCS}/assets/{filename}")

    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.get_data() == (VIEWER / "assets" / filename).read_bytes()


@pytest.mark.parametrize("filename", ["missing.js", "..", "%2e%2e%2fdocs.html", "docs.html"])
def test_a_file_outside_the_assets_is_a_404_problem(anonymous_client, filename):
    assert_problem(anonymous_client.get(f"{DOCS}/assets/{filename}"), 404)


def test_the_viewer_script_uses_only_the_document_it_is_given():
    script = (VIEWER / "assets" / "init.js").read_text()

    assert "validatorUrl: null" in script  # else Swagger UI asks validator.swagger.io
    assert "http" not in script


def test_the_vendored_files_are_the_pinned_release():
    readme = (VIEWER / "README.md").read_text()
    pinned = dict(re.findall(r"\| `assets/([^`]+)` \| `([0-9a-f]{64})` \|", readme))

    assert set(pinned) == {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"}
    for filename, digest in pinned.items():
        assert hashlib.sha256((VIEWER / "assets" / filename).read_bytes()).hexdigest() == digest
    for licence in ("LICENSE", "NOTICE", "swagger-ui-bundle.js.LICENSE.txt"):
        assert (VIEWER / "assets" / licence).is_file()
