"""MkDocs hook: the API reference page, rendered from the newest unit's OpenAPI document.

At build time it adds to the site, as generated files (nothing is copied into docs/):

- `reference/openapi.json`: the newest unit's `scheduler/openapi.yaml` (the very document
  the app serves at `/api/v1/openapi.json`), as JSON;
- `assets/swagger-ui/`: the unit's vendored viewer (`scheduler/viewer/assets/`), the same
  files the app serves at `/api/v1/docs/assets/`.

`docs/reference/api.md` loads both, so the guide shows the same reference as the app's
`/api/v1/docs`, offline. Registered under `hooks:` in mkdocs.yml; `mkdocs serve` also
rebuilds when the document or the viewer changes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from mkdocs.structure.files import File, Files

DOCUMENT = Path("scheduler/openapi.yaml")
VIEWER_ASSETS = Path("scheduler/viewer/assets")
SITE_DOCUMENT = "reference/openapi.json"
SITE_ASSETS = "assets/swagger-ui"


def on_files(files: Files, *, config) -> Files:
    """Add the document, as JSON, and the viewer's files to the site."""
    unit = documented_unit(config)
    document = yaml.safe_load((unit / DOCUMENT).read_text(encoding="utf-8"))
    files.append(File.generated(config, SITE_DOCUMENT, content=json.dumps(document, indent=1)))
    for asset in sorted((unit / VIEWER_ASSETS).iterdir()):
        files.append(File.generated(config, f"{SITE_ASSETS}/{asset.name}", abs_src_path=str(asset)))
    return files


def on_serve(server, *, config, builder):
    """Rebuild when the document or the viewer changes (`mkdocs serve`)."""
    unit = documented_unit(config)
    server.watch(str(unit / DOCUMENT))
    server.watch(str(unit / VIEWER_ASSETS))
    return server


def documented_unit(config) -> Path:
    """The newest unit folder that has an OpenAPI document."""
    root = Path(config.config_file_path).resolve().parent
    units = [path.parents[1] for path in root.glob(f"unit[0-9]*_*/{DOCUMENT}")]
    if not units:
        raise FileNotFoundError(f"No unit has {DOCUMENT}: the API reference needs one.")
    return max(units, key=lambda unit: int(re.match(r"unit([0-9]+)_", unit.name)[1]))
