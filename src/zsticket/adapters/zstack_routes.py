"""ZStack REST v1 routes of the APIs that tickets execute, as data.

Ground truth: ZStack's generated Java SDK. Every row was checked against ``getRestInfo()`` of the
``*Action.java`` named in its comment (repository zstackio/zstack, ``sdk/src/main/java/org/zstack/sdk/``):
``httpMethod`` -> ``method``, ``path`` -> ``path`` (relative to ``/v1``), ``parameterName`` -> ``wrapper``
(``""`` there is ``None`` here) and ``needPoll`` -> ``needs_poll``. Every action below has
``needSession = true``. The server message class (``api_name``) is the one whose source file exists at the
path given after ``server:``.

Path variables (``{uuid}``, ``{vmInstanceUuid}``, ...) are message fields: the caller moves them from the
API body into the URL. GET and DELETE routes carry their remaining fields in the query string (DELETE:
``deleteMode``); POST and PUT routes wrap them as ``{wrapper: {...}}``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ZStackRoute:
    api_name: str  # the server API message class, e.g. "org.zstack.header.vm.APICreateVmInstanceMsg"
    method: str  # "GET", "POST", "PUT" or "DELETE"
    path: str  # relative to /v1; may contain {uuid} etc.
    wrapper: str | None  # the body key: "params" for POST, the action name for PUT, None for GET/DELETE
    needs_poll: bool  # async API: 202 + api-jobs polling


_VM = "org.zstack.header.vm."
_VOLUME = "org.zstack.header.volume."

_TABLE: tuple[ZStackRoute, ...] = (
    # sdk: CreateVmInstanceAction.java; server: header/src/main/java/org/zstack/header/vm/APICreateVmInstanceMsg.java
    ZStackRoute(_VM + "APICreateVmInstanceMsg", "POST", "/vm-instances", "params", True),
    # sdk: StartVmInstanceAction.java; server: header/src/main/java/org/zstack/header/vm/APIStartVmInstanceMsg.java
    ZStackRoute(_VM + "APIStartVmInstanceMsg", "PUT", "/vm-instances/{uuid}/actions", "startVmInstance", True),
    # sdk: StopVmInstanceAction.java; server: header/src/main/java/org/zstack/header/vm/APIStopVmInstanceMsg.java
    ZStackRoute(_VM + "APIStopVmInstanceMsg", "PUT", "/vm-instances/{uuid}/actions", "stopVmInstance", True),
    # sdk: RebootVmInstanceAction.java; server: header/src/main/java/org/zstack/header/vm/APIRebootVmInstanceMsg.java
    ZStackRoute(_VM + "APIRebootVmInstanceMsg", "PUT", "/vm-instances/{uuid}/actions", "rebootVmInstance", True),
    # sdk: DestroyVmInstanceAction.java; server: header/src/main/java/org/zstack/header/vm/APIDestroyVmInstanceMsg.java
    ZStackRoute(_VM + "APIDestroyVmInstanceMsg", "DELETE", "/vm-instances/{uuid}", None, True),
    # sdk: ExpungeVmInstanceAction.java; server: header/src/main/java/org/zstack/header/vm/APIExpungeVmInstanceMsg.java
    ZStackRoute(_VM + "APIExpungeVmInstanceMsg", "PUT", "/vm-instances/{uuid}/actions", "expungeVmInstance", True),
    # sdk: ChangeInstanceOfferingAction.java;
    # server: header/src/main/java/org/zstack/header/vm/APIChangeInstanceOfferingMsg.java (same @RestRequest there)
    ZStackRoute(
        _VM + "APIChangeInstanceOfferingMsg",
        "PUT",
        "/vm-instances/{vmInstanceUuid}/actions",
        "changeInstanceOffering",
        True,
    ),
    # sdk: CreateDataVolumeAction.java;
    # server: header/src/main/java/org/zstack/header/volume/APICreateDataVolumeMsg.java
    ZStackRoute(_VOLUME + "APICreateDataVolumeMsg", "POST", "/volumes/data", "params", True),
    # sdk: AttachDataVolumeToVmAction.java;
    # server: header/src/main/java/org/zstack/header/volume/APIAttachDataVolumeToVmMsg.java (same @RestRequest there)
    ZStackRoute(
        _VOLUME + "APIAttachDataVolumeToVmMsg",
        "POST",
        "/volumes/{volumeUuid}/vm-instances/{vmInstanceUuid}",
        "params",
        True,
    ),
    # sdk: DeleteDataVolumeAction.java;
    # server: header/src/main/java/org/zstack/header/volume/APIDeleteDataVolumeMsg.java
    ZStackRoute(_VOLUME + "APIDeleteDataVolumeMsg", "DELETE", "/volumes/{uuid}", None, True),
    # sdk: CreateVipAction.java;
    # server: plugin/vip/src/main/java/org/zstack/network/service/vip/APICreateVipMsg.java
    ZStackRoute("org.zstack.network.service.vip.APICreateVipMsg", "POST", "/vips", "params", True),
    # sdk: CreateEipAction.java;
    # server: plugin/eip/src/main/java/org/zstack/network/service/eip/APICreateEipMsg.java
    ZStackRoute("org.zstack.network.service.eip.APICreateEipMsg", "POST", "/eips", "params", True),
)

ROUTES: dict[str, ZStackRoute] = {route.api_name: route for route in _TABLE}


def route_for(api_name: str) -> ZStackRoute | None:
    """The REST route of ``api_name`` (a server message class name), or ``None`` if it is not in the table."""
    return ROUTES.get(api_name)
