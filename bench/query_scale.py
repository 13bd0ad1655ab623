"""Benchmark 2: queries over 1,000,000 tickets and 5,000,000 history rows, over HTTP.

Data is bulk-inserted straight into the database (not through the API) after the server has
created the schema: 1,000 projects, each with its own two-step collection; tickets spread over
projects, statuses and a year of createDates; 5 history rows per ticket. Then, as a non-admin
virtual ID (member and first approver of one project, so its visibility filter applies):

  QueryTicket q=status=Pending, a createDate range, sort=-createDate, limit=20, replyWithCount=true
  QueryTicketHistory q=ticketUuid=<one of its tickets>

and, for the query plans, EXPLAIN of the same SQL.

    python bench/query_scale.py --db sqlite --tickets 1000000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, text

from bench.harness import database, serve, sha512, workdir
from zsticket.store.tables import Flow, FlowCollection, Project, Ticket, TicketStatusHistory

STATUSES = ["Pending", "IntermediateApproved", "FinalApproved", "Rejected", "Cancelled"]
PROJECTS = 1000
BATCH = 20000


def hexid() -> str:
    return uuid.uuid4().hex


def populate(url: str, tickets: int, vid_uuid: str, project_uuid: str, approver_flow_collection: str) -> None:
    engine = create_engine(url)
    now = datetime(2026, 12, 1)
    rng = random.Random(7)
    projects = [project_uuid] + [hexid() for _ in range(PROJECTS - 1)]
    collections = {project_uuid: approver_flow_collection}
    with engine.begin() as conn:
        conn.execute(
            insert(Project),
            [
                {
                    "uuid": p,
                    "name": f"bulk-{p}",
                    "description": None,
                    "state": "Enabled",
                    "linked_account_uuid": hexid(),
                    "attributes": "[]",
                    "create_date": now,
                    "last_op_date": now,
                }
                for p in projects[1:]
            ],
        )
        rows = []
        for p in projects[1:]:
            collections[p] = hexid()
            rows.append(
                {
                    "uuid": collections[p],
                    "name": "c",
                    "description": None,
                    "is_default": False,
                    "state": "Enabled",
                    "status": "Valid",
                    "type": "iam2",
                    "project_uuid": p,
                    "create_date": now,
                    "last_op_date": now,
                }
            )
        conn.execute(insert(FlowCollection), rows)
        conn.execute(
            insert(Flow),
            [
                {
                    "uuid": hexid(),
                    "name": "step",
                    "description": None,
                    "collection_uuid": collections[p],
                    "parent_flow_uuid": None,
                    "flow_context": "{}",
                    "flow_context_type": "IAM2TicketFlowContext",
                    "approver_uuid": hexid(),
                    "approver_title": None,
                    "valid": True,
                    "create_date": now,
                    "last_op_date": now,
                }
                for p in projects[1:]
            ],
        )
    request = json.dumps(
        [
            {
                "requestName": "create vm",
                "apiName": "org.zstack.header.vm.APICreateVmInstanceMsg",
                "executeTimes": 1,
                "apiBody": {"name": "vm", "l3NetworkUuids": ["x"]},
            }
        ]
    )
    started = time.perf_counter()
    for offset in range(0, tickets, BATCH):
        ticket_rows, history_rows = [], []
        for _ in range(min(BATCH, tickets - offset)):
            project = projects[rng.randrange(PROJECTS)]
            created = now - timedelta(seconds=rng.randrange(365 * 86400))
            submitter = vid_uuid if project == project_uuid and rng.random() < 0.5 else hexid()
            ticket = hexid()
            ticket_rows.append(
                {
                    "uuid": ticket,
                    "name": "t",
                    "description": None,
                    "status": STATUSES[rng.randrange(5)],
                    "requests": request,
                    "account_system_type": "iam2",
                    "account_system_context": json.dumps({"projectUuid": project, "virtualIDUuid": submitter}),
                    "account_uuid": hexid(),
                    "project_uuid": project,
                    "virtual_id_uuid": submitter,
                    "flow_collection_uuid": collections[project],
                    "current_flow_uuid": None,
                    "ticket_type_uuid": "3b933e9aaf2d49b9a3dcf0c92867790f",
                    "revision": 0,
                    "create_date": created,
                    "last_op_date": created,
                }
            )
            for step in range(5):
                history_rows.append(
                    {
                        "uuid": hexid(),
                        "ticket_uuid": ticket,
                        "from_status": "Pending",
                        "to_status": "Pending",
                        "comment": None,
                        "operator_uuid": submitter,
                        "operator_type": "IAM2VirtualIDVO",
                        "operation_context": None,
                        "operation_context_type": "StatusChanged",
                        "flow_name": f"s{step}",
                        "create_date": created,
                        "last_op_date": created,
                    }
                )
        with engine.begin() as conn:
            conn.execute(insert(Ticket), ticket_rows)
            conn.execute(insert(TicketStatusHistory), history_rows)
        done = offset + len(ticket_rows)
        if done % 200000 == 0 or done == tickets:
            print(
                f"  inserted {done} tickets, {5 * done} history rows ({time.perf_counter() - started:.0f}s)", flush=True
            )
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def explain(url: str, vid_uuid: str) -> None:
    """Print the database's plan for the QueryTicket statement the service builds for the viewer."""
    from sqlalchemy import and_, select
    from sqlalchemy.orm import Session

    from zsticket.domain.approval import Operator, OperatorType
    from zsticket.services.ticket_queries import QUERY_TICKET, ticket_visibility
    from zsticket.store.query_engine import Condition, Op, compile_where

    engine = create_engine(url)
    with Session(engine) as db:
        viewer = Operator(OperatorType.VIRTUAL_ID, vid_uuid, vid_uuid)
        where = compile_where(
            QUERY_TICKET,
            [
                Condition("status", Op.EQ, "Pending"),
                Condition("createDate", Op.GE, "2026-06-01 00:00:00"),
                Condition("createDate", Op.LT, "2026-09-01 00:00:00"),
            ],
        )
        visibility = ticket_visibility(viewer, db)
        assert visibility is not None
        stmt = select(Ticket).where(and_(*where, visibility)).order_by(Ticket.create_date.desc()).limit(20)
        compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
        prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        print("query plan of QueryTicket for the viewer:")
        for row in db.execute(text(prefix + str(compiled))):
            print("   ", " | ".join(str(c) for c in row))
    engine.dispose()


def timed(client: httpx.Client, path: str, params: list[tuple[str, str]], runs: int) -> tuple[list[float], dict]:
    latencies, body = [], {}
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path, params=params)
        latencies.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(response.text)
        body = response.json()
    return latencies, body


def report(name: str, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    print(f"{name:34s} p50 {statistics.median(latencies):7.1f} ms   p99 {p99:7.1f} ms   ({len(latencies)} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    with workdir() as tmp, database(args.db, Path(tmp)) as url, serve(url, Path(tmp)) as server:
        api = httpx.Client(base_url=f"{server.url}/zstack/v1", timeout=120)
        login = api.put(
            "/accounts/login",
            json={"logInByAccount": {"accountName": "admin", "password": sha512(server.admin_password)}},
        ).json()["inventory"]["uuid"]
        admin = {"Authorization": f"OAuth {login}"}

        def create(path: str, params: dict) -> dict:
            location = api.post(path, json={"params": params}, headers=admin).json()["location"]
            return httpx.get(location).json()["inventory"]

        project = create("/iam2/projects", {"name": "observed"})
        viewer = create(
            "/iam2/virtual-ids", {"name": "viewer", "password": sha512("viewer"), "projectUuid": project["uuid"]}
        )
        boss = create(
            "/iam2/virtual-ids",
            {"name": "boss", "password": sha512("boss"), "attributes": [{"name": "__SystemAdmin__"}]},
        )
        collection = create(
            "/tickets/flow-collections",
            {
                "name": "observed-flow",
                "projectUuid": project["uuid"],
                "flows": [{"name": "s1", "approverUuid": viewer["uuid"]}, {"name": "s2", "approverUuid": boss["uuid"]}],
            },
        )
        print(f"populating {args.tickets} tickets and {5 * args.tickets} history rows into {args.db} ...", flush=True)
        populate(url, args.tickets, viewer["uuid"], project["uuid"], collection["uuid"])
        session = api.put(
            "/iam2/virtual-ids/login", json={"loginIAM2VirtualID": {"name": "viewer", "password": sha512("viewer")}}
        ).json()["inventory"]["uuid"]
        client = httpx.Client(
            base_url=f"{server.url}/zstack/v1", timeout=120, headers={"Authorization": f"OAuth {session}"}
        )
        ticket_query = [
            ("q", "status=Pending"),
            ("q", "createDate>=2026-06-01 00:00:00"),
            ("q", "createDate<2026-09-01 00:00:00"),
            ("sort", "-createDate"),
            ("limit", "20"),
            ("replyWithCount", "true"),
        ]
        latencies, body = timed(client, "/tickets", ticket_query, args.runs)
        report("QueryTicket (visibility applies)", latencies)
        print(f"  -> {len(body['inventories'])} of total {body['total']} visible matches")
        visible = body["inventories"] or client.get("/tickets", params={"limit": "1"}).json()["inventories"]
        target = visible[0]["uuid"]
        latencies, body = timed(client, "/tickets/histories", [("q", f"ticketUuid={target}")], args.runs)
        report("QueryTicketHistory ticketUuid=", latencies)
        print(f"  -> {len(body['inventories'])} history rows")
        baseline, _ = timed(client, "/ticket-types", [], args.runs)
        report("QueryTicketType (baseline)", baseline)
        explain(url, viewer["uuid"])


if __name__ == "__main__":
    main()
