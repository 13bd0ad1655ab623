"""ZStack ``ErrorCode`` values and the exact message texts of the spec.

Every error the service reports to a client is a :class:`ZStackError`. The constructors below
are the only place message texts live; they are copied verbatim from
``spec/zstack-ticket-api.md`` §8 and ``spec/zstack-rest-conventions.md`` §6.

    ZStackError
      code         "SYS.1007", "ID.1001", ...
      description  fixed per code (ZStack's conf/errorCodes/*.xml)
      details      the formatted message
"""

from __future__ import annotations

from typing import Any

INTERNAL = "SYS.1000"
RESOURCE_NOT_FOUND = "SYS.1003"
OPERATION_ERROR = "SYS.1006"
INVALID_ARGUMENT = "SYS.1007"
UNKNOWN_MESSAGE = "SYS.1008"
UNIMPLEMENTED = "SYS.1014"
AUTHENTICATION_ERROR = "ID.1000"
INVALID_SESSION = "ID.1001"
PERMISSION_DENIED = "ID.1002"
MAX_CONCURRENT_SESSION_EXCEEDED = "ID.1006"

DESCRIPTIONS: dict[str, str] = {
    INTERNAL: "An internal error happened in system",
    "SYS.1001": "A message or a operation timeout",
    "SYS.1002": "Unable to create a resource",
    RESOURCE_NOT_FOUND: "A resource can not be found",
    "SYS.1004": "Unable to delete a resource",
    "SYS.1005": "Unable to change resource state",
    OPERATION_ERROR: "An operation failed",
    INVALID_ARGUMENT: "One or more API argument is invalid",
    UNKNOWN_MESSAGE: "Unknown message, no service can deal with the message",
    UNIMPLEMENTED: "The operation is not implemented or not supported yet",
    AUTHENTICATION_ERROR: "Unable to authenticate a user",
    INVALID_SESSION: "The session is invalid, either wrong session id or the session has been expired",
    PERMISSION_DENIED: "The user doesn't have permission to perform the operation",
    "ID.1003": "The user exceeds a quota of a resource",
    MAX_CONCURRENT_SESSION_EXCEEDED: "Max number of active sessions exceeded",
}

MAX_DETAILS_LENGTH = 4096


class ZStackError(Exception):
    """A failure reported to the client as a ZStack ``ErrorCode``."""

    def __init__(self, code: str, details: str, *, cause: ZStackError | None = None) -> None:
        super().__init__(f"{code}: {details}")
        self.code = code
        self.description = DESCRIPTIONS.get(code, DESCRIPTIONS[INTERNAL])
        self.details = details[:MAX_DETAILS_LENGTH]
        self.cause = cause

    def to_error_code(self) -> dict[str, Any]:
        """The ErrorCode JSON object, with null fields omitted as ZStack's Gson does."""
        body: dict[str, Any] = {
            "code": self.code,
            "description": self.description,
            "details": self.details,
        }
        if self.cause is not None:
            body["cause"] = self.cause.to_error_code()
        return body


def argerr(details: str) -> ZStackError:
    return ZStackError(INVALID_ARGUMENT, details)


def operr(details: str) -> ZStackError:
    return ZStackError(OPERATION_ERROR, details)


def internal(details: str) -> ZStackError:
    return ZStackError(INTERNAL, details)


# --- generic validation (ApiMessageParamValidator, PortApiValidator) -----------------------------


def mandatory(field: str, message: str) -> ZStackError:
    return argerr(f"field[{field}] of message[{message}] is mandatory, can not be null")


def too_long(field: str, message: str, max_length: int, actual: int) -> ZStackError:
    return argerr(
        f"field[{field}] of message[{message}] exceeds max length of string. "
        f"expected was <= {max_length}, actual was {actual}"
    )


def invalid_value_choice(field: str, message: str, valid: list[str], found: object) -> ZStackError:
    return argerr(f"valid value for field[{field}] of message[{message}] are [{', '.join(valid)}], but {found} found")


def nonempty_list(field: str) -> ZStackError:
    return argerr(f"field[{field}] must be a nonempty list")


def null_element(field: str) -> ZStackError:
    return argerr(f"field[{field}] cannot contain a NULL element")


def empty_string(field: str) -> ZStackError:
    return argerr(f"field[{field}] cannot be an empty string")


def out_of_range(field: str, low: int, high: int) -> ZStackError:
    return argerr(f"field[{field}] must be in range of [{low}, {high}]")


def wrong_type(field: str, message: str, expected: str, found: object) -> ZStackError:
    return argerr(f"field[{field}] of message[{message}] must be {expected}, but {found!r} found")


def invalid_uuid_value(field: str, value: object) -> ZStackError:
    return ZStackError(RESOURCE_NOT_FOUND, f"invalid value[{value}] of field [{field}]")


def invalid_resource_uuid(value: str) -> ZStackError:
    return argerr(
        f"resourceUuid[{value}] is not a valid uuid. A valid uuid is a UUID(v4 recommended) with '-' "
        "stripped. see http://en.wikipedia.org/wiki/Universally_unique_identifier for format of UUID, "
        "the regular expression uses to validate a UUID is "
        "[0-9a-f]{8}[0-9a-f]{4}[1-5][0-9a-f]{3}[89ab][0-9a-f]{3}[0-9a-f]{12}"
    )


def resource_exists(uuid: str, vo: str) -> ZStackError:
    return argerr(f"resource[uuid:{uuid}, type:{vo}] already exists")


def not_found(field: str, uuid: str, vo: str) -> ZStackError:
    return ZStackError(RESOURCE_NOT_FOUND, f"invalid field[{field}], resource[uuid:{uuid}, type:{vo}] not found")


def not_found_many(field: str, uuids: list[str], vo: str) -> ZStackError:
    return ZStackError(
        RESOURCE_NOT_FOUND, f"invalid field[{field}], resource[uuids:[{', '.join(uuids)}], type:{vo}] not found"
    )


# --- identity ------------------------------------------------------------------------------------


def wrong_credentials() -> ZStackError:
    return ZStackError(AUTHENTICATION_ERROR, "wrong account name or password")


def login_throttled(seconds: int) -> ZStackError:
    return ZStackError(AUTHENTICATION_ERROR, f"too many failed login attempts, try again in {seconds} seconds")


def session_expired() -> ZStackError:
    return ZStackError(INVALID_SESSION, "Session expired")


def session_missing() -> ZStackError:
    return ZStackError(INVALID_SESSION, "session uuid is null")


def admin_only(api: str) -> ZStackError:
    return ZStackError(PERMISSION_DENIED, f"API[{api}] is admin only")


def permission_denied(details: str) -> ZStackError:
    return ZStackError(PERMISSION_DENIED, details)


def name_taken(vo: str, name: str) -> ZStackError:
    return operr(f"there has been a {vo} with name[{name}]")


# --- tickets (spec §8; the number is the row of that table) --------------------------------------


def ticket_not_updatable(uuid: str, name: str | None, status: str) -> ZStackError:  # 1
    return operr(
        f"ticket[uuid:{uuid}, name:{name}] can only be updated after being cancelled, current status is {status}"
    )


def operator_not_approver(approver_uuid: str) -> ZStackError:  # 2
    return operr(f"operation denied. the operator needs to be done by account/virtual ID[uuid:{approver_uuid}]")


def collection_invalid(uuid: str) -> ZStackError:  # 3
    return operr(f"Ticket flow collection[uuid:{uuid}] is invalid, contact admin to correct it")


def collection_disabled(uuid: str) -> ZStackError:  # 4
    return operr(f"Ticket flow collection[uuid:{uuid}] is disable, can not be used")


def unknown_account_system_type(value: str) -> ZStackError:  # 5
    return argerr(f"no accountSystemType[{value}] defined in system")


def no_ticket_type() -> ZStackError:  # 6
    return argerr("not matched ticket type found")


def collection_type_mismatch(collection_uuid: str, type_uuid: str) -> ZStackError:  # 7
    return argerr(f"Ticket flow collection[uuid:{collection_uuid}] not matches ticket type[uuid:{type_uuid}]")


def no_collection() -> ZStackError:  # 8
    return argerr(
        "no matched ticket flow collection or no default ticket flow collection found, you must specify "
        "the flowCollectionUuid or create a default ticket flow collection in system"
    )


def unknown_api(api_name: str) -> ZStackError:  # 9
    return argerr(f"invalid request. no API[{api_name}] found")


def bad_api_body(api_name: str, reason: str) -> ZStackError:  # 10
    return argerr(f"invalid request, cannot create API[{api_name}] from apiBody, {reason}")


def illegal_transition(status: str, event: str) -> ZStackError:  # 11
    return operr(f"operation denied. the ticket is in status of {status}, cannot do the operation[{event}]")


def no_api_class(api_name: str) -> ZStackError:  # 12
    return operr(f"No api class[name:{api_name}] is found")


def submitter_deleted(vid_uuid: str, ticket_uuid: str, name: str | None) -> ZStackError:  # 14
    return operr(
        f"operation denied because the ticket submitter[uuid:{vid_uuid}] has been deleted, "
        f"the ticket[uuid:{ticket_uuid}, name:{name}] can only be deleted now"
    )


def project_deleted(project_uuid: str, ticket_uuid: str, name: str | None) -> ZStackError:  # 15
    return operr(
        f"operation denied because the project[uuid:{project_uuid}] of the ticket has been deleted, "
        f"the ticket[uuid:{ticket_uuid}, name:{name}] can only be deleted now"
    )


def collection_not_in_project(collection_uuid: str, project_uuid: str) -> ZStackError:  # 16
    return operr(
        f"operation denied because flow collection[uuid:{collection_uuid}] "
        f"it not belong the project[uuid:{project_uuid}]"
    )


def not_owner(vid_uuid: str, ticket_uuid: str, name: str | None) -> ZStackError:  # 17
    return operr(f"the virtual ID[uuid:{vid_uuid}] is not the owner of the ticket[uuid:{ticket_uuid}, name:{name}]")


APPROVER_LOST_COMMENT = (  # 18
    "approver is removed from project or deleted, flow collection changed to invalid, reject this ticket"
)


def no_flows() -> ZStackError:  # 19
    return argerr("at least one flow is needed for create flow collection")


def wrong_approver_title(title: str, valid: list[str]) -> ZStackError:  # 20
    return argerr(f"wrong approver title {title}, valid value is [{', '.join(valid)}]")  # Java List.toString


def unknown_virtual_id(uuid: str) -> ZStackError:  # 21
    return argerr(f"can not find IAM2VirtualIDVO[uuid:{uuid}]")


def flow_name_needed() -> ZStackError:  # 22
    return argerr("name is needed when create a flow")


def ticket_type_taken() -> ZStackError:  # 23
    return argerr("one ticket type can only have one matches flow collection")


def last_approver_not_privileged() -> ZStackError:  # 24
    return argerr("admin or iam2 operation is required as approver of the last flow")


def flow_name_null() -> ZStackError:  # 25
    return argerr("name cannot be null")


def approver_null() -> ZStackError:  # 26
    return argerr("approverUuid cannot be null")


def approver_not_in_project(vid_uuid: str, project_uuid: str) -> ZStackError:  # 27
    return argerr(f"virtual id[uuid:{vid_uuid}] not belong to project[uuid:{project_uuid}]")


# --- our own decisions (docs/behaviour.md) -------------------------------------------------------


def self_approval(vid_uuid: str) -> ZStackError:
    return operr(f"operation denied. the virtual ID[uuid:{vid_uuid}] cannot approve its own ticket")


def tickets_in_progress(kind: str, uuid: str, count: int) -> ZStackError:
    return operr(
        f"cannot change {kind}[uuid:{uuid}]: {count} ticket(s) in progress use it; "
        "finish them or use deleteMode=Enforcing to reject them"
    )


def last_flow_cannot_be_deleted(collection_uuid: str) -> ZStackError:
    return operr(f"cannot delete the only flow of flow collection[uuid:{collection_uuid}]")


def parent_flow_elsewhere(parent_uuid: str, collection_uuid: str) -> ZStackError:
    return argerr(f"parent flow[uuid:{parent_uuid}] does not belong to flow collection[uuid:{collection_uuid}]")


def system_collection_readonly(uuid: str) -> ZStackError:
    return operr(f"the system default flow collection[uuid:{uuid}] cannot be changed")


def admin_only_ticket_type(type_uuid: str) -> ZStackError:
    return ZStackError(PERMISSION_DENIED, f"ticket type[uuid:{type_uuid}] is admin only")


def project_state(project_uuid: str, state: str) -> ZStackError:
    return operr(f"project[uuid:{project_uuid}] is {state}, operation denied")


def virtual_id_disabled(uuid: str) -> ZStackError:
    return ZStackError(INVALID_SESSION, f"virtual ID[uuid:{uuid}] is disabled")


def executions_pending(ticket_uuid: str, count: int) -> ZStackError:
    return operr(
        f"ticket[uuid:{ticket_uuid}] has {count} approved call(s) not executed yet; it can be deleted once "
        "they have run, or with deleteMode=Enforcing while none of them has been sent"
    )
