"""The API's contract: the hand-written OpenAPI document shipped beside this module."""

from functools import cache
from importlib.resources import files

import yaml

DOCUMENT_FILE = "openapi.yaml"


# --8<-- [start:load]
@cache
def openapi_document() -> dict:
    """Return the OpenAPI document as a dict, parsed once per process."""
    text = files(__package__).joinpath(DOCUMENT_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text)
    # --8<-- [end:load]
