"""Benchmark: delay from the FinalApproved commit to the upstream call, against the ZStack stand-in.

For each ticket the final approve is sent, its job polled, and the stand-in's receipt time of the
CreateVmInstance call read from its call log (same machine clock). The commit lies between the
approve request being sent and its poll answering, so two figures bound the true delay:

  upper bound = stand-in receipt - approve request sent
  lower bound = stand-in receipt - approve result received

    python -m bench.dispatch_latency --db sqlite --tickets 200
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import httpx

from bench.harness import database, serve, sha512, workdir
from tests.fake_zstack.harness import CREATE_VM, fake_zstack


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=200)
    args = parser.parse_args()
    with (
        workdir() as tmp,
        fake_zstack(Path(tmp)) as node,
        database(args.db, Path(tmp)) as url,
        serve(url, Path(tmp), zstack_url=node.url, zstack_password="password") as server,
    ):
        api = httpx.Client(base_url=f"{server.url}/zstack/v1", timeout=60)

        def call(session: str, method: str, path: str, body: dict) -> dict:
            response = api.request(method, path, json=body, headers={"Authorization": f"OAuth {session}"})
            result = httpx.get(response.json()["location"], timeout=60)
            assert result.status_code == 200, result.text
            return dict(result.json())

        admin = api.put(
            "/accounts/login",
            json={"logInByAccount": {"accountName": "admin", "password": sha512(server.admin_password)}},
        ).json()["inventory"]["uuid"]
        project = call(admin, "POST", "/iam2/projects", {"params": {"name": "latency"}})["inventory"]["uuid"]
        submitter = call(
            admin,
            "POST",
            "/iam2/virtual-ids",
            {"params": {"name": "submitter", "password": sha512("s"), "projectUuid": project}},
        )["inventory"]["uuid"]
        session = api.put(
            "/iam2/virtual-ids/login", json={"loginIAM2VirtualID": {"name": "submitter", "password": sha512("s")}}
        ).json()["inventory"]["uuid"]
        request = {
            "requestName": "vm",
            "apiName": CREATE_VM,
            "executeTimes": 1,
            "apiBody": {"name": "vm", "l3NetworkUuids": ["0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d"]},
        }
        upper, lower = [], []
        for n in range(args.tickets):
            ticket = call(
                session,
                "POST",
                "/tickets",
                {
                    "params": {
                        "name": f"t{n}",
                        "requests": [request],
                        "accountSystemType": "iam2",
                        "accountSystemContext": {"projectUuid": project, "virtualIDUuid": submitter},
                    }
                },
            )["inventory"]
            seen = len(node.calls(api=CREATE_VM))
            sent = time.time()
            call(admin, "PUT", f"/tickets/{ticket['uuid']}/actions", {"changeTicketStatus": {"statusEvent": "approve"}})
            answered = time.time()
            deadline = time.monotonic() + 30
            while len(calls := node.calls(api=CREATE_VM)) <= seen:
                if time.monotonic() > deadline:
                    raise RuntimeError("the upstream call never came")
                time.sleep(0.002)
            received = calls[seen]["at"]
            upper.append((received - sent) * 1000)
            lower.append(max(0.0, received - answered) * 1000)
    print(f"database {args.db}, {args.tickets} tickets (system default collection: one admin step)")
    for name, values in (("upper", upper), ("lower", lower)):
        p50, p99 = statistics.median(values), percentile(values, 0.99)
        print(f"commit -> upstream call, {name} bound: p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")


if __name__ == "__main__":
    main()
