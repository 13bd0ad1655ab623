"""``zsticket serve | migrate``: the service's command line."""

from __future__ import annotations

import logging

import typer
import uvicorn

from zsticket.settings import Settings

cli = typer.Typer(add_completion=False, help="zstack-ticket: a ZStack-compatible approval service")


def _settings(host: str | None, port: int | None) -> Settings:
    settings = Settings()
    if host is not None:
        settings.host = host
    if port is not None:
        settings.port = port
    return settings


@cli.command()
def serve(
    host: str = typer.Option(None, help="Address to listen on (default 0.0.0.0)"),
    port: int = typer.Option(None, help="Port to listen on (default 8080)"),
) -> None:
    """Apply migrations and serve the ZStack REST v1 and RPC APIs."""
    from zsticket.app import create_app

    settings = _settings(host, port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(settings)
    print(
        f"zsticket: serving on http://{settings.host}:{settings.port}/zstack/v1 "
        f"(database: {settings.resolved_database_url().split('@')[-1]})",
        flush=True,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning", access_log=False)


@cli.command()
def migrate() -> None:
    """Apply the database migrations and seed data, then exit."""
    from zsticket.app import open_service

    service = open_service(Settings())
    service.database.engine.dispose()
    typer.echo("zsticket: database is up to date")


def main() -> None:
    cli()
