"""``python -m tests.fake_zstack --port N --state-file PATH [--account name:password ...]``"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from tests.fake_zstack.node import FakeNode
from tests.fake_zstack.server import build_app
from tests.fake_zstack.store import Store
from tests.fake_zstack.wire import sha512


def _account(text: str) -> tuple[str, str]:
    name, sep, password = text.partition(":")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected name:password, got {text!r}")
    return name, password


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_zstack", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-file", type=Path, required=True, help="SQLite file; reused across restarts")
    parser.add_argument(
        "--account", type=_account, action="append", help="name:plainpassword, repeatable (default admin:password)"
    )
    parser.add_argument("--session-timeout", type=float, default=7200.0, help="seconds (sliding expiry)")
    parser.add_argument(
        "--inflight-on-restart",
        choices=("forget", "resume"),
        default="forget",
        help="jobs still running when the process stopped: forget them (poll 404) or run them now",
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    accounts = {name: sha512(password) for name, password in (args.account or [("admin", "password")])}
    node = FakeNode(Store(args.state_file), accounts, args.session_timeout, args.inflight_on_restart)
    # h11 explicitly: dropping a connection relies on its protocol object (see server._drop).
    uvicorn.run(build_app(node), host=args.host, port=args.port, http="h11", lifespan="on", log_level=args.log_level)


if __name__ == "__main__":
    main()
