"""Fixtures: a real server process per database kind (SQLite and PostgreSQL), and clients for it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.fake_zstack.harness import FakeZStack, fake_zstack
from tests.servers import PG_ADMIN_DSN, ServerProcess, fresh_database, start_server
from tests.world import World
from tests.zstack_client import ZStackClient

DATABASES = ["sqlite", "postgresql"]


def _require_postgres() -> None:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=5):
            return
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise RuntimeError(f"PostgreSQL must be reachable in CI: {exc}") from exc
        pytest.skip(f"PostgreSQL is not reachable: {exc}")


@pytest.fixture(scope="session", params=DATABASES)
def database_kind(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        _require_postgres()
    return str(request.param)


@pytest.fixture(scope="session")
def server(database_kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp(f"server-{database_kind}")
    with fresh_database(database_kind, workdir) as url:
        process = start_server(workdir, url)
        yield process
        process.stop()


@pytest.fixture
def make_server(database_kind: str, tmp_path: Path) -> Iterator[object]:
    """Start a dedicated server with extra ``ZSTICKET_*`` settings, for tests that change them."""
    started: list[ServerProcess] = []
    contexts = []

    def make(**settings: str) -> ServerProcess:
        context = fresh_database(database_kind, tmp_path)
        url = context.__enter__()
        contexts.append(context)
        process = start_server(tmp_path, url, **settings)
        started.append(process)
        return process

    yield make
    for process in started:
        process.stop()
    for context in contexts:
        context.__exit__(None, None, None)


@pytest.fixture
def anonymous(server: ServerProcess) -> Iterator[ZStackClient]:
    client = ZStackClient(server.base_url)
    yield client
    client.close()


@pytest.fixture
def admin(server: ServerProcess) -> Iterator[ZStackClient]:
    client = ZStackClient(server.base_url)
    client.session = client.login_account("admin", server.admin_password).inventory["uuid"]
    yield client
    client.close()


@pytest.fixture
def world(admin: ZStackClient) -> World:
    return World(admin)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[FakeZStack]:
    """The stand-in ZStack management node, a real HTTP server in its own process."""
    workdir = tmp_path / "zstack"
    workdir.mkdir()
    with fake_zstack(workdir) as zs:
        yield zs
