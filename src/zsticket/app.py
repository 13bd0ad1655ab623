"""The composition root: ``create_app(settings)`` builds everything; nothing is built at import."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from zsticket.domain.approval import ADMIN_ACCOUNT_UUID
from zsticket.messages.bus import Bus
from zsticket.messages.catalogue import ALL_APIS
from zsticket.services.flow_collections import seed_system_default_collection
from zsticket.services.passwords import generate_password, hash_password, sha512_hex
from zsticket.services.ticket_types import seed_ticket_types
from zsticket.settings import Settings
from zsticket.store import migrate
from zsticket.store.database import Database, create_database_engine
from zsticket.store.tables import Account
from zsticket.wire_dates import utcnow
from zsticket.workers.execution_worker import ExecutionWorkers, upstream_factory
from zsticket.zstack_api.rest_v1 import ApiJobs, RestCodec
from zsticket.zstack_api.routing import RouteTable
from zsticket.zstack_api.rpc import RpcCodec

log = logging.getLogger("zsticket")
ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


@dataclass
class Service:
    settings: Settings
    database: Database
    bus: Bus
    workers: ExecutionWorkers


def open_service(settings: Settings, *, run_migrations: bool = True) -> Service:
    """Engine, schema, seed data, the bus and the execution workers: everything but the web layer."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = create_database_engine(settings.resolved_database_url())
    if run_migrations:
        migrate.upgrade(engine)
    database = Database(engine)
    bootstrap(database, settings)
    workers = ExecutionWorkers(database, settings, upstream_factory(settings))
    bus = Bus(database, settings, wake_executions=workers.wake)
    return Service(settings=settings, database=database, bus=bus, workers=workers)


def bootstrap(database: Database, settings: Settings) -> None:
    """Seed the admin account, built-in ticket types and the system default flow collection."""
    now = utcnow()
    with database.transaction(write=True) as db:
        if db.get(Account, ADMIN_ACCOUNT_UUID) is None:
            plain = settings.admin_password
            if plain is None:
                plain = generate_password()
                _announce_generated_password(settings, plain)
            db.add(
                Account(
                    uuid=ADMIN_ACCOUNT_UUID,
                    name="admin",
                    type="SystemAdmin",
                    password_hash=hash_password(sha512_hex(plain), cost=settings.password_hash_cost),
                    create_date=now,
                    last_op_date=now,
                )
            )
        seed_ticket_types(db, now=now)
        if settings.seed_system_default_collection:
            db.flush()
            seed_system_default_collection(db, now=now)


def _announce_generated_password(settings: Settings, plain: str) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = settings.data_dir / "admin-password"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "w") as handle:
        handle.write(plain + "\n")
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    print(f"zsticket: generated the admin password: {plain}  (also kept in {path}, mode 0600)", flush=True)


async def _expire_periodically(bus: Bus, interval: float = 600.0) -> None:
    """Old job results and expired sessions are deleted every ten minutes."""
    while True:
        try:
            await run_in_threadpool(bus.expire)
        except Exception:
            log.exception("expiring old jobs and sessions failed")
        await asyncio.sleep(interval)


def create_app(settings: Settings, service: Service | None = None, *, run_workers: bool = True) -> Starlette:
    service = service or open_service(settings)
    rest = RestCodec(service.bus, settings, RouteTable(ALL_APIS))
    jobs = ApiJobs(service.bus)
    rpc = RpcCodec(service.bus, settings)

    async def health(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if run_workers:
            service.workers.start()
        janitor = asyncio.create_task(_expire_periodically(service.bus))
        yield
        janitor.cancel()
        service.workers.stop()
        service.database.engine.dispose()

    routes = [
        Route("/healthz", health, methods=["GET"]),
        Route("/zstack/api", rpc.handle, methods=["POST"]),
        Route("/zstack/api/", rpc.handle, methods=["POST"]),
        Route("/zstack/api/result/{uuid}", rpc.result, methods=["GET"]),
        Route("/zstack/v1/api-jobs/{uuid}", jobs.handle, methods=ALL_METHODS),
        Route("/v1/api-jobs/{uuid}", jobs.handle, methods=ALL_METHODS),
        Route("/zstack/v1/{path:path}", rest.handle, methods=ALL_METHODS),
        Route("/v1/{path:path}", rest.handle, methods=ALL_METHODS),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
