"""Fixtures: a fake scheduler server to point the suite at, and a world for it."""

from collections.abc import Callable, Iterator

import pytest
from fake_server import FakeScheduler, serve
from scheduler_conformance.world import Settings, World


@pytest.fixture
def fake_url() -> Iterator[Callable[..., str]]:
    """Start fake servers (options as for FakeScheduler); return each one's base URL."""
    servers = []

    def start(**options) -> str:
        """Start one fake server and return its base URL."""
        server = serve(FakeScheduler(**options))
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def world_for() -> Callable[..., World]:
    """A World for a base URL (settings as keyword arguments)."""
    return lambda base_url, **settings: World(Settings(base_url=base_url, **settings))
