"""``zsticket serve | worker | executions | migrate``: the service's command line."""

from __future__ import annotations

import logging
import os

import typer
import uvicorn

from zsticket.settings import Settings

cli = typer.Typer(add_completion=False, help="zstack-ticket: a ZStack-compatible approval service")


def load_settings() -> Settings:
    """``ZSTICKET_*`` environment variables, over an optional file of the same (``ZSTICKET_CONFIG_FILE``)."""
    config_file = os.environ.get("ZSTICKET_CONFIG_FILE")
    return Settings(_env_file=config_file) if config_file else Settings()  # type: ignore[call-arg]


def _settings(host: str | None, port: int | None) -> Settings:
    settings = load_settings()
    if host is not None:
        settings.host = host
    if port is not None:
        settings.port = port
    return settings


@cli.command()
def serve(
    host: str = typer.Option(None, help="Address to listen on (default 0.0.0.0)"),
    port: int = typer.Option(None, help="Port to listen on (default 8080)"),
    no_workers: bool = typer.Option(False, "--no-workers", help="Do not execute approved calls in this process"),
    processes: int = typer.Option(
        1, min=1, max=64, help="Server processes sharing the port (PostgreSQL only; SQLite has one writer)"
    ),
) -> None:
    """Apply migrations and serve the ZStack REST v1 and RPC APIs."""
    from zsticket.app import create_app, open_service
    from zsticket.processes import serve_processes

    settings = _settings(host, port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if processes > 1 and settings.resolved_database_url().startswith("sqlite"):
        typer.echo(
            "zsticket: --processes > 1 needs PostgreSQL (ZSTICKET_DATABASE_URL): SQLite has one writer", err=True
        )
        raise typer.Exit(2)
    app = create_app(settings, run_workers=not no_workers) if processes == 1 else None
    if app is None:  # migrate and seed once here; each child process builds its app from the same settings
        open_service(settings).database.engine.dispose()
    print(
        f"zsticket: serving on http://{settings.host}:{settings.port}/zstack/v1 "
        f"(database: {settings.resolved_database_url().split('@')[-1]}, {processes} process(es))",
        flush=True,
    )
    _announce_upstream(settings, no_workers)
    if app is not None:
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)
        return
    raise typer.Exit(serve_processes(settings, processes, run_workers=not no_workers))


def _announce_upstream(settings: Settings, no_workers: bool) -> None:
    if no_workers:
        print("zsticket: execution workers disabled here; run `zsticket worker` elsewhere", flush=True)
    elif not settings.zstack_url or settings.zstack_password is None:
        print(
            "zsticket: no ZStack management node configured (ZSTICKET_ZSTACK_URL, ZSTICKET_ZSTACK_PASSWORD): "
            "approved calls wait in state Waiting until one is configured",
            flush=True,
        )
    else:
        print(f"zsticket: executing approved calls on {settings.zstack_url} as {settings.zstack_account}", flush=True)


@cli.command()
def worker() -> None:
    """Execute approved tickets' calls without serving the API (scale-out on PostgreSQL)."""
    import signal
    import threading

    from zsticket.app import open_service

    settings = load_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    service = open_service(settings)
    _announce_upstream(settings, False)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    service.workers.start()
    stop.wait()
    service.workers.stop()


@cli.command()
def executions(ticket_uuid: str) -> None:
    """Show the execution progress of one ticket's approved calls."""
    from sqlalchemy import select

    from zsticket.app import open_service
    from zsticket.store.tables import TicketExecution

    service = open_service(load_settings())
    with service.database.transaction(write=False) as db:
        rows = db.scalars(
            select(TicketExecution)
            .where(TicketExecution.ticket_uuid == ticket_uuid)
            .order_by(TicketExecution.revision, TicketExecution.request_index, TicketExecution.execution_number)
        ).all()
        for row in rows:
            outcome = row.error or row.last_error or ""
            typer.echo(
                f"rev {row.revision} request {row.request_index} #{row.execution_number} {row.api_name} "
                f"job {row.job_uuid} {row.state} attempts={row.attempts} {outcome[:200]}"
            )
    if not rows:
        typer.echo(f"no executions for ticket {ticket_uuid}")


@cli.command()
def migrate() -> None:
    """Apply the database migrations and seed data, then exit."""
    from zsticket.app import open_service

    service = open_service(load_settings())
    service.database.engine.dispose()
    typer.echo("zsticket: database is up to date")


def main() -> None:
    cli()
