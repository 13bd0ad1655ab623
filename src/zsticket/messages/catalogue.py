"""The API table: every API the service speaks, declared once (DESIGN.md "every API is a message").

Paths are relative to ``/zstack/v1``; class names, wrappers and parameters follow the ZStack SDK
(spec: zstack-ticket-api.md §2, iam2-identity-subset.md).
"""

from __future__ import annotations

from zsticket.messages.params import Kind, Param, list_param, str_param, uuid_param
from zsticket.messages.spec import ApiKind, ApiSpec, Policy
from zsticket.services import (
    flow_collections,
    flows,
    identity_queries,
    projects,
    sessions,
    ticket_queries,
    tickets,
    virtual_ids,
)

A, S, Q = ApiKind.ASYNC, ApiKind.SYNC, ApiKind.QUERY
IDENTITY = "org.zstack.header.identity."
IAM2 = "org.zstack.iam2.api."
TICKET = "org.zstack.ticket.api."
TICKET_IAM2 = "org.zstack.ticket.iam2.api."

NAME = str_param("name", required=True, max_length=255)
OPT_NAME = str_param("name", max_length=255)
DESCRIPTION = str_param("description", max_length=2048)
UUID = uuid_param("uuid", required=True)
RESOURCE_UUID = str_param("resourceUuid")
TAG_UUIDS = list_param("tagUuids")
DELETE_MODE = str_param("deleteMode", valid_values=("Permissive", "Enforcing"))
STATE_EVENT = str_param("stateEvent", required=True, valid_values=("enable", "disable"))
PASSWORD = str_param("password", required=True, max_length=255)
CLIENT_INFO = Param("clientInfo", Kind.MAP)
ATTRIBUTES = list_param("attributes", item=Kind.MAP)


def query(class_name: str, path: str, qdef: object, visibility: object) -> ApiSpec:
    return ApiSpec(
        class_name=class_name,
        method="GET",
        path=path,
        optional_paths=(path + "/{uuid}",),
        kind=Q,
        query=qdef,  # type: ignore[arg-type]
        visibility=visibility,  # type: ignore[arg-type]
        writes=False,
    )


IDENTITY_APIS: tuple[ApiSpec, ...] = (
    ApiSpec(
        IDENTITY + "APILogInByAccountMsg",
        "PUT",
        "/accounts/login",
        S,
        "logInByAccount",
        (
            str_param("accountName", required=True, max_length=255),
            PASSWORD,
            str_param("accountType"),
            str_param("captchaUuid"),
            str_param("verifyCode"),
            CLIENT_INFO,
        ),
        sessions.log_in_by_account,
        Policy.NONE,
    ),
    ApiSpec(
        IAM2 + "APILoginIAM2VirtualIDMsg",
        "PUT",
        "/iam2/virtual-ids/login",
        S,
        "loginIAM2VirtualID",
        (NAME, PASSWORD, str_param("captchaUuid"), str_param("verifyCode"), CLIENT_INFO),
        sessions.login_iam2_virtual_id,
        Policy.NONE,
    ),
    ApiSpec(
        IAM2 + "APILoginIAM2ProjectMsg",
        "PUT",
        "/iam2/projects/login",
        S,
        "loginIAM2Project",
        (str_param("projectName", required=True, max_length=255), CLIENT_INFO),
        sessions.login_iam2_project,
    ),
    ApiSpec(
        IDENTITY + "APILogOutMsg",
        "DELETE",
        "/accounts/sessions/{sessionUuid}",
        S,
        None,
        (str_param("sessionUuid"), CLIENT_INFO),
        sessions.log_out,
        Policy.NONE,
    ),
    ApiSpec(
        IDENTITY + "APIValidateSessionMsg",
        "GET",
        "/accounts/sessions/{sessionUuid}/valid",
        S,
        None,
        (str_param("sessionUuid", required=True),),
        sessions.validate_session,
        Policy.NONE,
        writes=False,
    ),
    ApiSpec(
        IDENTITY + "APIRenewSessionMsg",
        "PUT",
        "/accounts/sessions/{sessionUuid}/renew",
        A,
        "renewSession",
        (str_param("sessionUuid", required=True), Param("duration", Kind.INT, number_range=(60, 31536000))),
        sessions.renew_session,
    ),
    ApiSpec(
        IAM2 + "APICreateIAM2ProjectMsg",
        "POST",
        "/iam2/projects",
        A,
        "params",
        (NAME, DESCRIPTION, ATTRIBUTES, RESOURCE_UUID, TAG_UUIDS),
        projects.create_iam2_project,
    ),
    query(
        IAM2 + "APIQueryIAM2ProjectMsg",
        "/iam2/projects",
        identity_queries.QUERY_IAM2_PROJECT,
        identity_queries.project_visibility,
    ),
    ApiSpec(
        IAM2 + "APIUpdateIAM2ProjectMsg",
        "PUT",
        "/iam2/projects/{uuid}/actions",
        A,
        "updateIAM2Project",
        (UUID, OPT_NAME, DESCRIPTION),
        projects.update_iam2_project,
    ),
    ApiSpec(
        IAM2 + "APIChangeIAM2ProjectStateMsg",
        "PUT",
        "/iam2/projects/{uuid}/actions",
        A,
        "changeIAM2ProjectState",
        (UUID, STATE_EVENT),
        projects.change_iam2_project_state,
    ),
    ApiSpec(
        IAM2 + "APIDeleteIAM2ProjectMsg",
        "DELETE",
        "/iam2/projects/{uuid}",
        A,
        None,
        (UUID, DELETE_MODE),
        projects.delete_iam2_project,
    ),
    ApiSpec(
        IAM2 + "APIExpungeIAM2ProjectMsg",
        "PUT",
        "/iam2/projects/{uuid}/actions",
        A,
        "expungeIAM2Project",
        (UUID,),
        projects.expunge_iam2_project,
    ),
    ApiSpec(
        IAM2 + "APIAddIAM2VirtualIDsToProjectMsg",
        "POST",
        "/iam2/projects/{projectUuid}/virtual-ids",
        A,
        "params",
        (
            uuid_param("projectUuid", required=True),
            list_param("virtualIDUuids", required=True, nonempty=True),
            list_param("roleUuids"),
        ),
        projects.add_iam2_virtual_ids_to_project,
    ),
    ApiSpec(
        IAM2 + "APIRemoveIAM2VirtualIDsFromProjectMsg",
        "DELETE",
        "/iam2/projects/{projectUuid}/virtual-ids",
        A,
        None,
        (uuid_param("projectUuid", required=True), list_param("virtualIDUuids", required=True, nonempty=True)),
        projects.remove_iam2_virtual_ids_from_project,
    ),
    ApiSpec(
        IAM2 + "APICreateIAM2VirtualIDMsg",
        "POST",
        "/iam2/virtual-ids",
        A,
        "params",
        (
            NAME,
            PASSWORD,
            DESCRIPTION,
            ATTRIBUTES,
            uuid_param("projectUuid"),
            Param("withoutDefaultRole", Kind.BOOL),
            RESOURCE_UUID,
            TAG_UUIDS,
        ),
        virtual_ids.create_iam2_virtual_id,
    ),
    query(
        IAM2 + "APIQueryIAM2VirtualIDMsg",
        "/iam2/virtual-ids",
        identity_queries.QUERY_IAM2_VIRTUAL_ID,
        identity_queries.virtual_id_visibility,
    ),
    ApiSpec(
        IAM2 + "APIUpdateIAM2VirtualIDMsg",
        "PUT",
        "/iam2/virtual-ids/{uuid}/actions",
        A,
        "updateIAM2VirtualID",
        (UUID, OPT_NAME, DESCRIPTION, str_param("password", max_length=255), str_param("oldPassword", max_length=255)),
        virtual_ids.update_iam2_virtual_id,
    ),
    ApiSpec(
        IAM2 + "APIChangeIAM2VirtualIDStateMsg",
        "PUT",
        "/iam2/virtual-ids/{uuid}/actions",
        A,
        "changeIAM2VirtualIDState",
        (UUID, STATE_EVENT),
        virtual_ids.change_iam2_virtual_id_state,
    ),
    ApiSpec(
        IAM2 + "APIDeleteIAM2VirtualIDMsg",
        "DELETE",
        "/iam2/virtual-ids/{uuid}",
        A,
        None,
        (UUID, DELETE_MODE),
        virtual_ids.delete_iam2_virtual_id,
    ),
    ApiSpec(
        IAM2 + "APIAddAttributesToIAM2VirtualIDMsg",
        "POST",
        "/iam2/virtual-ids/{uuid}/attributes",
        A,
        "params",
        (UUID, list_param("attributes", item=Kind.MAP, required=True, nonempty=True)),
        virtual_ids.add_attributes_to_iam2_virtual_id,
    ),
    ApiSpec(
        IAM2 + "APIRemoveAttributesFromIAM2VirtualIDMsg",
        "DELETE",
        "/iam2/virtual-ids/{uuid}/attributes",
        A,
        None,
        (UUID, list_param("attributeUuids", required=True, nonempty=True)),
        virtual_ids.remove_attributes_from_iam2_virtual_id,
    ),
    query(
        IAM2 + "APIQueryIAM2VirtualIDAttributeMsg",
        "/iam2/virtual-ids/attributes",
        identity_queries.QUERY_IAM2_VIRTUAL_ID_ATTRIBUTE,
        identity_queries.attribute_visibility,
    ),
    ApiSpec(
        IAM2 + "APIGetIAM2ProjectsOfVirtualIDMsg",
        "GET",
        "/iam2/virtual-ids/projects",
        S,
        None,
        (),
        projects.get_iam2_projects_of_virtual_id,
        writes=False,
    ),
)

REQUESTS = list_param("requests", item=Kind.MAP, required=True, nonempty=True)
FLOWS = list_param("flows", item=Kind.MAP)
COLLECTION_UUID_IN_PATH = uuid_param("ticketFlowCollectionUuid", required=True)
TICKET_TYPE_UUIDS = list_param("ticketTypeUuids", required=True, nonempty=True)

TICKET_APIS: tuple[ApiSpec, ...] = (
    ApiSpec(
        TICKET + "APICreateTicketMsg",
        "POST",
        "/tickets",
        A,
        "params",
        (
            NAME,
            DESCRIPTION,
            REQUESTS,
            uuid_param("flowCollectionUuid"),
            str_param("accountSystemType", required=True),
            Param("accountSystemContext", Kind.MAP, required=True),
            RESOURCE_UUID,
            TAG_UUIDS,
        ),
        tickets.create_ticket,
    ),
    ApiSpec(
        TICKET + "APIUpdateTicketRequestMsg",
        "PUT",
        "/tickets/{uuid}/actions",
        A,
        "updateTicketRequest",
        (UUID, REQUESTS, DESCRIPTION),
        tickets.update_ticket_request,
    ),
    ApiSpec(
        TICKET + "APIChangeTicketStatusMsg",
        "PUT",
        "/tickets/{uuid}/actions",
        A,
        "changeTicketStatus",
        (
            UUID,
            str_param("statusEvent", required=True, valid_values=("open", "approve", "cancel", "reject", "reopen")),
            str_param("comment", max_length=65535),
        ),
        tickets.change_ticket_status,
    ),
    ApiSpec(
        TICKET + "APIDeleteTicketMsg",
        "DELETE",
        "/tickets/{uuid}",
        A,
        None,
        (UUID, DELETE_MODE),
        tickets.delete_ticket,
    ),
    query(TICKET + "APIQueryTicketMsg", "/tickets", ticket_queries.QUERY_TICKET, ticket_queries.ticket_visibility),
    query(
        TICKET + "APIQueryTicketHistoryMsg",
        "/tickets/histories",
        ticket_queries.QUERY_TICKET_HISTORY,
        ticket_queries.history_visibility,
    ),
    query(
        TICKET + "APIQueryArchiveTicketMsg",
        "/tickets/archives",
        ticket_queries.QUERY_ARCHIVE_TICKET,
        ticket_queries.archive_visibility,
    ),
    query(
        TICKET + "APIQueryArchiveTicketHistoryMsg",
        "/tickets/histories/archives",
        ticket_queries.QUERY_ARCHIVE_TICKET_HISTORY,
        ticket_queries.archive_history_visibility,
    ),
    query(
        TICKET + "APIQueryTicketFlowCollectionMsg",
        "/tickets/flow-collections",
        ticket_queries.QUERY_TICKET_FLOW_COLLECTION,
        ticket_queries.collection_visibility,
    ),
    query(
        TICKET + "APIQueryTicketExecutionMsg",
        "/tickets/executions",
        ticket_queries.QUERY_TICKET_EXECUTION,
        ticket_queries.execution_visibility,
    ),
    query(
        TICKET + "APIQueryTicketFlowMsg",
        "/tickets/flow",
        ticket_queries.QUERY_TICKET_FLOW,
        ticket_queries.flow_visibility,
    ),
    ApiSpec(
        TICKET + "APIChangeTicketFlowCollectionStateMsg",
        "PUT",
        "/tickets/flow-collections/{uuid}/actions",
        A,
        "changeTicketFlowCollectionState",
        (UUID, STATE_EVENT),
        flow_collections.change_ticket_flow_collection_state,
    ),
    ApiSpec(
        TICKET + "APIDeleteTicketFlowCollectionMsg",
        "DELETE",
        "/tickets/flow-collections/{uuid}",
        A,
        None,
        (UUID, DELETE_MODE),
        flow_collections.delete_ticket_flow_collection,
    ),
    query(TICKET + "APIQueryTicketTypeMsg", "/ticket-types", ticket_queries.QUERY_TICKET_TYPE, ticket_queries.everyone),
    ApiSpec(
        TICKET + "APIAddTicketTypesToTicketFlowCollectionMsg",
        "POST",
        "/tickets/flow-collections/{ticketFlowCollectionUuid}/ticket-types",
        A,
        "params",
        (COLLECTION_UUID_IN_PATH, TICKET_TYPE_UUIDS),
        flow_collections.add_ticket_types_to_ticket_flow_collection,
    ),
    ApiSpec(
        TICKET + "APIRemoveTicketTypesFromTicketFlowCollectionMsg",
        "DELETE",
        "/tickets/flow-collections/{ticketFlowCollectionUuid}/ticket-types",
        A,
        None,
        (COLLECTION_UUID_IN_PATH, TICKET_TYPE_UUIDS),
        flow_collections.remove_ticket_types_from_ticket_flow_collection,
    ),
    ApiSpec(
        TICKET_IAM2 + "APICreateIAM2TickFlowCollectionMsg",
        "POST",
        "/tickets/flow-collections",
        A,
        "params",
        (
            FLOWS,
            uuid_param("projectUuid", required=True),
            NAME,
            DESCRIPTION,
            Param("isDefault", Kind.BOOL),
            list_param("ticketTypeUuids"),
            RESOURCE_UUID,
            TAG_UUIDS,
        ),
        flow_collections.create_iam2_tick_flow_collection,
    ),
    ApiSpec(
        TICKET_IAM2 + "APIUpdateIAM2TicketFlowCollectionMsg",
        "PUT",
        "/tickets/flow-collections/{uuid}/actions",
        A,
        "updateIAM2TicketFlowCollection",
        (UUID, FLOWS, OPT_NAME, DESCRIPTION, Param("isDefault", Kind.BOOL)),
        flow_collections.update_iam2_ticket_flow_collection,
    ),
    ApiSpec(
        TICKET_IAM2 + "APIAddIAM2TicketFlowMsg",
        "POST",
        "/tickets/flow",
        A,
        "params",
        (
            uuid_param("approverUuid", required=True),
            str_param("approverTitle"),
            OPT_NAME,
            DESCRIPTION,
            uuid_param("collectionUuid", required=True),
            uuid_param("parentFlowUuid"),
            RESOURCE_UUID,
            TAG_UUIDS,
        ),
        flows.add_iam2_ticket_flow,
    ),
    ApiSpec(
        TICKET_IAM2 + "APIUpdateIAM2TicketFlowMsg",
        "PUT",
        "/tickets/flow/{uuid}/actions",
        A,
        "updateIAM2TicketFlow",
        (UUID, OPT_NAME, DESCRIPTION, uuid_param("approverUuid"), str_param("approverTitle")),
        flows.update_iam2_ticket_flow,
    ),
    ApiSpec(
        TICKET_IAM2 + "APIDeleteIAM2TicketFlowMsg",
        "DELETE",
        "/tickets/flow/{uuid}",
        A,
        None,
        (UUID, DELETE_MODE),
        flows.delete_iam2_ticket_flow,
    ),
)

ALL_APIS: tuple[ApiSpec, ...] = IDENTITY_APIS + TICKET_APIS
BY_CLASS_NAME: dict[str, ApiSpec] = {api.class_name: api for api in ALL_APIS}
