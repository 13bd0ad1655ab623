"""A stand-alone client of the ZStack REST v1 API, written from the wire rules alone.

It uses only httpx and the standard library, as a new user would:

    python stock_client_script.py http://127.0.0.1:8080 --prefix demo   (password in ZSTACK_ADMIN_PASSWORD)

It logs in as admin, creates a project and two virtual IDs, adds them to the project, queries them
back with ``q=`` conditions, logs out, prints a summary and exits 0 only if everything matched.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import sys
import time
import uuid

import httpx


class Mismatch(Exception):
    pass


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise Mismatch(what)


class Client:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/") + "/zstack/v1", timeout=30)
        self.session: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Job-UUID": uuid.uuid4().hex}
        if self.session:
            headers["Authorization"] = "OAuth " + self.session
        return headers

    def login(self, account: str, password: str) -> None:
        hashed = hashlib.sha512(password.encode()).hexdigest()  # the wire carries the SHA-512 hex
        response = self.http.put(
            "/accounts/login",
            json={"logInByAccount": {"accountName": account, "password": hashed}},
            headers=self.headers(),
        )
        expect(response.status_code == 200, f"login answered {response.status_code}: {response.text}")
        self.session = response.json()["inventory"]["uuid"]

    def logout(self) -> None:
        response = self.http.delete(f"/accounts/sessions/{self.session}")
        expect(response.status_code == 200, f"logout answered {response.status_code}: {response.text}")

    def async_call(self, method: str, path: str, body: dict) -> dict:
        """A mutating API: 202 with a location, then poll it until the job is done."""
        response = self.http.request(method, path, json=body, headers=self.headers())
        expect(response.status_code == 202, f"{method} {path} answered {response.status_code}: {response.text}")
        location = response.json()["location"]
        expect("/zstack/v1/api-jobs/" in location, f"odd location {location}")
        deadline = time.monotonic() + 15
        while True:
            poll = httpx.get(location, timeout=30)
            if poll.status_code != 202:
                break
            expect(time.monotonic() < deadline, f"{method} {path} did not finish in 15 s")
            time.sleep(0.1)
        expect(poll.status_code == 200, f"{method} {path} failed with {poll.status_code}: {poll.text}")
        return poll.json()

    def query(self, path: str, *conditions: str, **params: str) -> dict:
        items = [("q", c) for c in conditions] + list(params.items())
        response = self.http.get(path, params=items, headers=self.headers())
        expect(response.status_code == 200, f"GET {path} answered {response.status_code}: {response.text}")
        return response.json()


def run(base_url: str, password: str, prefix: str) -> list[str]:
    client = Client(base_url)
    client.login("admin", password)

    project = client.async_call("POST", "/iam2/projects", {"params": {"name": f"{prefix}-project"}})["inventory"]
    expect(project["name"] == f"{prefix}-project" and project["state"] == "Enabled", f"project {project}")

    vids = []
    for who in ("ann", "bob"):
        secret = hashlib.sha512(secrets.token_hex(8).encode()).hexdigest()
        body = {"params": {"name": f"{prefix}-{who}", "password": secret, "description": f"{who} of {prefix}"}}
        vids.append(client.async_call("POST", "/iam2/virtual-ids", body)["inventory"])

    added = client.async_call(
        "POST",
        f"/iam2/projects/{project['uuid']}/virtual-ids",
        {"params": {"virtualIDUuids": [v["uuid"] for v in vids]}},
    )
    expect(added == {}, f"adding members answered {added}")

    members = client.query(
        "/iam2/virtual-ids",
        f"projects.uuid={project['uuid']}",
        f"name~={prefix}-%",
        sort="-name",
        replyWithCount="true",
    )
    names = [inv["name"] for inv in members["inventories"]]
    expect(names == [f"{prefix}-bob", f"{prefix}-ann"], f"members are {names}")
    expect(members["total"] == 2, f"total is {members['total']}")
    expect({inv["uuid"] for inv in members["inventories"]} == {v["uuid"] for v in vids}, "member uuids differ")

    only_ann = client.query("/iam2/virtual-ids", f"projects.uuid={project['uuid']}", f"description=ann of {prefix}")
    expect([inv["name"] for inv in only_ann["inventories"]] == [f"{prefix}-ann"], f"ann query gave {only_ann}")

    by_uuid = client.query(f"/iam2/projects/{project['uuid']}")
    expect([p["uuid"] for p in by_uuid["inventories"]] == [project["uuid"]], f"project by uuid gave {by_uuid}")

    client.logout()
    return [
        f"project {project['name']} {project['uuid']}",
        f"members {','.join(names)} total={members['total']}",
        "OK",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("base_url", help="e.g. http://127.0.0.1:8080")
    parser.add_argument("--password", default=os.environ.get("ZSTACK_ADMIN_PASSWORD"))
    parser.add_argument("--prefix", default=f"stock-{secrets.token_hex(4)}")
    args = parser.parse_args()
    if not args.password:
        print("FAILED: give --password or set ZSTACK_ADMIN_PASSWORD", file=sys.stderr)
        return 2
    try:
        lines = run(args.base_url, args.password, args.prefix)
    except (Mismatch, httpx.HTTPError, KeyError, ValueError) as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
