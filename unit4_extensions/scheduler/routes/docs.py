"""GET /openapi.json and GET /docs: the API's contract, and a viewer the app serves itself."""

import json
from pathlib import Path

from flask import Blueprint, Response, render_template, send_from_directory

from scheduler.openapi import openapi_document

VIEWER = Path(__file__).resolve().parent.parent / "viewer"
ASSET_TYPES = {".css": "text/css", ".js": "text/javascript", ".png": "image/png"}
# Everything the viewer loads comes from this origin; this also proves it needs no CDN.
VIEWER_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'"
)

bp = Blueprint("docs", __name__, template_folder=str(VIEWER))


# --8<-- [start:routes]
@bp.get("/openapi.json")
def openapi_json() -> Response:
    """Serve the OpenAPI document as JSON, in its written order (jsonify would sort the keys,
    and the paths and fields are in the order a reader should meet them)."""
    return Response(json.dumps(openapi_document()), mimetype="application/json")


@bp.get("/docs")
def viewer() -> Response:
    """Serve the interactive viewer's page."""
    response = Response(render_template("docs.html"), mimetype="text/html")
    response.headers["Content-Security-Policy"] = VIEWER_POLICY
    return response


@bp.get("/docs/assets/<filename>")
def asset(filename: str) -> Response:
    """Serve one of the viewer's files (a missing or unsafe name is a 404)."""
    mimetype = ASSET_TYPES.get(Path(filename).suffix, "text/plain")
    return send_from_directory(VIEWER / "assets", filename, mimetype=mimetype)
    # --8<-- [end:routes]
