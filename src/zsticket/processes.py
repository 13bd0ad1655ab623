"""``zsticket serve --processes N``: N server processes, each with its own SO_REUSEPORT socket.

The kernel spreads new connections over the sockets by their address hash, so long-lived
keep-alive connections are balanced too (one shared listening socket lets whichever process
wakes first take most of them). Each process builds its app from the same settings; the parent
has already migrated and seeded the database, and only supervises: SIGTERM/SIGINT stop the
children, and the death of one stops the rest.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import threading

import uvicorn

from zsticket.settings import Settings


def listening_socket(host: str, port: int) -> socket.socket:
    """Made with ``IPPROTO_TCP``, not 0, so that asyncio sets TCP_NODELAY on accepted connections.

    (A socket with ``proto`` 0, as uvicorn's own ``--workers`` makes, keeps Nagle's algorithm on:
    with delayed ACKs each small response then waits ~40 ms; measured 320 instead of 1400 req/s.)
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _serve_one(host: str, port: int, run_workers: bool) -> None:
    from zsticket.app import create_app, open_service
    from zsticket.cli import load_settings

    sock = listening_socket(host, port)
    settings = load_settings()
    app = create_app(settings, open_service(settings, run_migrations=False), run_workers=run_workers)
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def serve_processes(settings: Settings, processes: int, *, run_workers: bool) -> int:
    """Run ``processes`` servers until a signal or the death of one of them; the exit code."""
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(target=_serve_one, args=(settings.host, settings.port, run_workers), name=f"zsticket-{n}")
        for n in range(processes)
    ]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    for child in children:
        child.start()
    exit_code = 0
    while not stop.wait(0.5):
        dead = [child for child in children if not child.is_alive()]
        if dead:
            exit_code = dead[0].exitcode or 1
            break
    for child in children:
        if child.is_alive():
            child.terminate()
    for child in children:
        child.join(timeout=15)
        if child.is_alive():
            child.kill()
            child.join()
    return exit_code
