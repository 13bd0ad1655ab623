"""The API table is consistent: one row per API, unambiguous routes, every spec API present."""

from __future__ import annotations

from collections import defaultdict

from zsticket.messages.catalogue import ALL_APIS, BY_CLASS_NAME
from zsticket.messages.spec import ApiKind
from zsticket.zstack_api.routing import RouteTable

TICKET_APIS = {  # spec zstack-ticket-api.md §2.1
    "CreateTicket",
    "UpdateTicketRequest",
    "ChangeTicketStatus",
    "DeleteTicket",
    "QueryTicket",
    "QueryTicketHistory",
    "QueryArchiveTicket",
    "QueryArchiveTicketHistory",
    "QueryTicketFlowCollection",
    "QueryTicketFlow",
    "ChangeTicketFlowCollectionState",
    "DeleteTicketFlowCollection",
    "QueryTicketType",
    "AddTicketTypesToTicketFlowCollection",
    "RemoveTicketTypesFromTicketFlowCollection",
    "CreateIAM2TickFlowCollection",
    "UpdateIAM2TicketFlowCollection",
    "AddIAM2TicketFlow",
    "UpdateIAM2TicketFlow",
    "DeleteIAM2TicketFlow",
}


def test_class_names_are_unique() -> None:
    assert len(BY_CLASS_NAME) == len(ALL_APIS)


def test_every_ticket_api_of_the_spec_is_declared() -> None:
    declared = {api.simple_name[len("API") : -len("Msg")] for api in ALL_APIS}
    assert TICKET_APIS <= declared


def test_apis_sharing_a_route_and_method_differ_by_wrapper() -> None:
    by_route: dict[tuple[str, str], list[str | None]] = defaultdict(list)
    for api in ALL_APIS:
        by_route[(api.method, api.path)].append(api.wrapper)
    for (method, path), wrappers in by_route.items():
        if len(wrappers) > 1:
            assert method == "PUT" and len(set(wrappers)) == len(wrappers), (method, path, wrappers)


def test_put_wrappers_follow_zstack_naming() -> None:
    for api in ALL_APIS:
        if api.method == "PUT" and api.kind is not ApiKind.QUERY and api.wrapper is not None:
            stem = api.simple_name[len("API") : -len("Msg")]
            assert api.wrapper == stem[0].lower() + stem[1:], api.class_name


def test_literal_segments_win_over_variables() -> None:
    table = RouteTable(ALL_APIS)
    for path, template in [
        ("/tickets/histories/archives", "/tickets/histories/archives"),
        ("/tickets/histories", "/tickets/histories"),
        ("/tickets/archives", "/tickets/archives"),
        ("/tickets/flow", "/tickets/flow"),
        ("/tickets/flow-collections", "/tickets/flow-collections"),
        ("/tickets/0123456789abcdef0123456789abcdef", "/tickets/{uuid}"),
        ("/iam2/virtual-ids/attributes", "/iam2/virtual-ids/attributes"),
    ]:
        match = table.match(path)
        assert match is not None and match.route.template == template, path
