"""Builders for the people, projects and flow collections a ticket test needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.zstack_client import VM_TICKET_TYPE, ZStackClient, sha512, unique, vm_request


@dataclass
class Person:
    uuid: str
    name: str
    password: str
    client: ZStackClient


@dataclass
class World:
    """An admin client and helpers; every name is unique so tests can share one server."""

    admin: ZStackClient
    people: dict[str, Person] = field(default_factory=dict)

    def project(self, **extra: Any) -> dict[str, Any]:
        return self.admin.post("/iam2/projects", {"name": unique("project"), **extra}).inventory

    def person(self, *, project: str | None = None, attributes: list[dict[str, Any]] | None = None) -> Person:
        name, password = unique("vid"), unique("pw")
        params: dict[str, Any] = {"name": name, "password": sha512(password)}
        if attributes:
            params["attributes"] = attributes
        if project is not None:
            params["projectUuid"] = project
        inventory = self.admin.post("/iam2/virtual-ids", params).inventory
        client = self.admin.as_session(None)
        client.session = client.login_vid(name, password).inventory["uuid"]
        person = Person(inventory["uuid"], name, password, client)
        self.people[name] = person
        return person

    def system_admin(self) -> Person:
        """A virtual ID holding __SystemAdmin__: a valid last approver (spec §6.2)."""
        return self.person(attributes=[{"name": "__SystemAdmin__"}])

    def collection(self, project: str, approvers: list[str], **extra: Any) -> dict[str, Any]:
        flows = [{"name": f"step-{i + 1}", "approverUuid": a} for i, a in enumerate(approvers)]
        params = {
            "name": unique("collection"),
            "projectUuid": project,
            "flows": flows,
            "ticketTypeUuids": [VM_TICKET_TYPE],
            **extra,
        }
        return self.admin.post("/tickets/flow-collections", params).inventory

    def two_step(self) -> TwoStep:
        """The end-to-end cast: a project, a submitter and two approvers (the last privileged)."""
        project = self.project()
        submitter = self.person(project=project["uuid"])
        first = self.person(project=project["uuid"])
        last = self.system_admin()
        collection = self.collection(project["uuid"], [first.uuid, last.uuid])
        return TwoStep(self, project, submitter, first, last, collection)


@dataclass
class TwoStep:
    world: World
    project: dict[str, Any]
    submitter: Person
    first: Person
    last: Person
    collection: dict[str, Any]

    def ticket_params(self, **extra: Any) -> dict[str, Any]:
        return {
            "name": unique("ticket"),
            "requests": [vm_request()],
            "accountSystemType": "iam2",
            "accountSystemContext": {"projectUuid": self.project["uuid"], "virtualIDUuid": self.submitter.uuid},
            **extra,
        }

    def create_ticket(self, **extra: Any) -> dict[str, Any]:
        return self.submitter.client.post("/tickets", self.ticket_params(**extra)).inventory

    def change(self, who: Person | ZStackClient, ticket: str, event: str, comment: str | None = None) -> Any:
        client = who.client if isinstance(who, Person) else who
        fields = {"statusEvent": event}
        if comment is not None:
            fields["comment"] = comment
        return client.action(f"/tickets/{ticket}/actions", "changeTicketStatus", fields)
