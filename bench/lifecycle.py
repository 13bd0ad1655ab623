"""Benchmark 1: the ticket lifecycle over the real wire protocol, against a trivial-endpoint baseline.

Each client logs in once, then loops: CreateTicket (202 + poll), approve by step 1 (202 + poll),
approve by step 2 (202 + poll), QueryTicket. The same number of clients then hammer GET /healthz
for the same time, in the same run, as the baseline.

    python bench/lifecycle.py --db sqlite --clients 16 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.harness import database, serve, sha512, workdir
from bench.profiling import record, summarise

CREATE_VM = "org.zstack.header.vm.APICreateVmInstanceMsg"
VM_TYPE = "3b933e9aaf2d49b9a3dcf0c92867790f"


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    tickets: int = 0
    transitions: int = 0


async def call(
    client: httpx.AsyncClient,
    stats: Stats,
    method: str,
    path: str,
    session: str | None = None,
    body: dict[str, Any] | None = None,
    params: Any = None,
) -> Any:
    headers = {"Authorization": f"OAuth {session}"} if session else {}
    start = time.perf_counter()
    response = await client.request(method, path, json=body, params=params, headers=headers)
    stats.latencies.append(time.perf_counter() - start)
    if response.status_code == 202:
        location = response.json()["location"]
        start = time.perf_counter()
        response = await client.get(location)
        stats.latencies.append(time.perf_counter() - start)
    if response.status_code != 200:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
    return response.json()


async def setup(url: str, admin_password: str, clients: int) -> dict[str, Any]:
    stats = Stats()
    async with httpx.AsyncClient(base_url=f"{url}/zstack/v1", timeout=60) as http:
        login = await call(
            http,
            stats,
            "PUT",
            "/accounts/login",
            body={"logInByAccount": {"accountName": "admin", "password": sha512(admin_password)}},
        )
        admin = login["inventory"]["uuid"]
        project = (await call(http, stats, "POST", "/iam2/projects", admin, {"params": {"name": "bench"}}))["inventory"]

        async def person(name: str, attributes: list[dict[str, str]] | None = None) -> tuple[str, str]:
            params: dict[str, Any] = {"name": name, "password": sha512(name), "projectUuid": project["uuid"]}
            if attributes:
                params["attributes"] = attributes
            vid = (await call(http, stats, "POST", "/iam2/virtual-ids", admin, {"params": params}))["inventory"]
            session = await call(
                http,
                stats,
                "PUT",
                "/iam2/virtual-ids/login",
                body={"loginIAM2VirtualID": {"name": name, "password": sha512(name)}},
            )
            return vid["uuid"], session["inventory"]["uuid"]

        first = await person("approver-1")
        last = await person("approver-2", [{"name": "__SystemAdmin__"}])
        submitters = [await person(f"submitter-{i}") for i in range(clients)]
        flows = [{"name": "step-1", "approverUuid": first[0]}, {"name": "step-2", "approverUuid": last[0]}]
        await call(
            http,
            stats,
            "POST",
            "/tickets/flow-collections",
            admin,
            {
                "params": {
                    "name": "bench-flow",
                    "projectUuid": project["uuid"],
                    "flows": flows,
                    "ticketTypeUuids": [VM_TYPE],
                }
            },
        )
    return {"project": project["uuid"], "first": first[1], "last": last[1], "submitters": submitters}


async def lifecycle_client(url: str, world: dict[str, Any], index: int, deadline: float, stats: Stats) -> None:
    vid, session = world["submitters"][index]
    request = {
        "requestName": "create vm",
        "apiName": CREATE_VM,
        "executeTimes": 1,
        "apiBody": {"name": "vm", "l3NetworkUuids": ["0a1b2c3d4e5f4a6b8c7d9e0f1a2b3c4d"]},
    }
    async with httpx.AsyncClient(base_url=f"{url}/zstack/v1", timeout=60) as http:
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            params = {
                "name": f"t-{index}-{n}",
                "requests": [request],
                "accountSystemType": "iam2",
                "accountSystemContext": {"projectUuid": world["project"], "virtualIDUuid": vid},
            }
            ticket = (await call(http, stats, "POST", "/tickets", session, {"params": params}))["inventory"]
            for approver in (world["first"], world["last"]):
                await call(
                    http,
                    stats,
                    "PUT",
                    f"/tickets/{ticket['uuid']}/actions",
                    approver,
                    {"changeTicketStatus": {"statusEvent": "approve"}},
                )
                stats.transitions += 1
            await call(http, stats, "GET", "/tickets", session, params={"q": f"uuid={ticket['uuid']}"})
            stats.tickets += 1


async def baseline_client(url: str, deadline: float, stats: Stats) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            response = await http.get(f"{url}/healthz")
            stats.latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise RuntimeError(response.text)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def measure(
    urls: list[str],
    admin_password: str,
    clients: int,
    seconds: float,
    on_lifecycle: Callable[[], None] = lambda: None,
) -> dict[str, float]:
    """Clients are spread round-robin over ``urls`` (several server processes on one database)."""
    world = await setup(urls[0], admin_password, clients)
    base = Stats()
    deadline = time.perf_counter() + seconds
    await asyncio.gather(*(baseline_client(urls[i % len(urls)], deadline, base) for i in range(clients)))
    stats = Stats()
    on_lifecycle()
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(lifecycle_client(urls[i % len(urls)], world, i, deadline, stats) for i in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "baseline_rps": len(base.latencies) / seconds,
        "ticket_rps": len(stats.latencies) / elapsed,
        "tickets_per_s": stats.tickets / elapsed,
        "transitions_per_s": stats.transitions / elapsed,
        "p50_ms": statistics.median(stats.latencies) * 1000,
        "p99_ms": percentile(stats.latencies, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--servers", type=int, default=1, help="server processes sharing the database")
    parser.add_argument("--processes", type=int, default=1, help="`zsticket serve --processes N` (PostgreSQL)")
    parser.add_argument("--profile", type=Path, help="sample the (first) server with py-spy during the lifecycle phase")
    args = parser.parse_args()
    with workdir() as tmp, database(args.db, Path(tmp)) as url, contextlib.ExitStack() as stack:
        password = secrets.token_urlsafe(12)
        flags = ("--processes", str(args.processes))
        servers = [
            stack.enter_context(serve(url, Path(tmp), admin_password=password, serve_args=flags))
            for _ in range(args.servers)
        ]
        profiler: list[subprocess.Popen[bytes]] = []

        def start_profiler() -> None:
            if args.profile is not None:
                profiler.append(record(servers[0].process.pid, args.profile, args.seconds))

        result = asyncio.run(measure([s.url for s in servers], password, args.clients, args.seconds, start_profiler))
        rss = max(s.peak_rss_mb() for s in servers)
        for process in profiler:
            process.wait(timeout=60)
    print(
        f"database                 {args.db}  ({args.clients} clients, {args.servers} server(s) "
        f"of {args.processes} process(es), "
        f"{args.seconds:.0f}s per phase)"
    )
    print(f"trivial endpoint         {result['baseline_rps']:8.1f} req/s   (baseline, same run)")
    ratio = result["ticket_rps"] / result["baseline_rps"]
    print(f"ticket API requests      {result['ticket_rps']:8.1f} req/s   ratio {ratio:.2f}")
    print(f"completed tickets        {result['tickets_per_s']:8.1f} /s")
    camunda = result["transitions_per_s"] / 100
    print(f"approval transitions     {result['transitions_per_s']:8.1f} /s   ratio to 100/s: {camunda:.2f}")
    print(f"ticket API latency       p50 {result['p50_ms']:.1f} ms   p99 {result['p99_ms']:.1f} ms")
    print(f"server peak RSS          {rss:8.1f} MB   (largest process)")
    if args.profile is not None:
        print(f"profile of the lifecycle phase ({args.profile}), by share of samples:")
        print(summarise(args.profile))


if __name__ == "__main__":
    main()
