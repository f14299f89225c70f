"""The image's HEALTHCHECK: exit 0 when the API in this container answers its health check,
1 otherwise. Python rather than curl, which a slim image does not have."""

import os
import sys
import urllib.request
from http import HTTPStatus

URL = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/api/v1/health"


def healthy() -> bool:
    """Whether GET /api/v1/health answers 200 (503 while the database is unreachable)."""
    try:
        with urllib.request.urlopen(URL, timeout=3) as response:
            return response.status == HTTPStatus.OK
    except OSError:  # refused, timed out, or an HTTP error status such as 503
        return False


if __name__ == "__main__":
    sys.exit(0 if healthy() else 1)
