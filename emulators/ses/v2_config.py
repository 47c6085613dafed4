"""SES v2 configuration sets and their event destinations, and the account's settings
(``GetAccount``, ``PutAccountSendingAttributes``, ``PutAccountSuppressionAttributes``).

An event destination with an ``SnsDestination`` publishes the matching events to that topic's
confirmed subscriptions; the other kinds are kept and listed only. SES itself accepts a topic
that does not exist yet and fails later; the sandbox does the same.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mailsandbox.emulators.ses import config_store, sending
from mailsandbox.emulators.ses.errors import (
    BAD_REQUEST,
    CONFIG_SET_EXISTS,
    CONFIG_SET_MISSING,
    DESTINATION_EXISTS,
    DESTINATION_MISSING,
    SesError,
)
from mailsandbox.emulators.ses.paging import page
from mailsandbox.emulators.ses.sigv4 import authorize
from mailsandbox.emulators.ses.v2_common import answer, caller_and_body, required
from mailsandbox.runtime import Sandbox
from mailsandbox.storage.sql import Connection

router = APIRouter()
# High quotas: django-ses throttles itself to the rate GetAccount / GetSendQuota report.
MAX_SEND_RATE = 1000.0
MAX_24_HOUR_SEND = 1_000_000.0
SET_OPTIONS = (
    "TrackingOptions",
    "DeliveryOptions",
    "ReputationOptions",
    "SendingOptions",
    "Tags",
    "SuppressionOptions",
    "VdmOptions",
    "ArchivingOptions",
)
OPTION_PATHS = {
    "tracking-options": "TrackingOptions",
    "delivery-options": "DeliveryOptions",
    "reputation-options": "ReputationOptions",
    "sending": "SendingOptions",
    "suppression-options": "SuppressionOptions",
    "vdm-options": "VdmOptions",
    "archiving-options": "ArchivingOptions",
}


def set_missing(name: str) -> SesError:
    return SesError(CONFIG_SET_MISSING, f"Configuration set <{name}> does not exist.")


def destination(name: str, definition: dict[str, Any]) -> config_store.Destination:
    """An ``EventDestinationDefinition`` as stored (types checked, in v2 spelling)."""
    types = [str(t) for t in definition.get("MatchingEventTypes") or []]
    unknown = [t for t in types if t not in config_store.EVENT_TYPES]
    if unknown:
        raise SesError(BAD_REQUEST, f"Invalid event type: {unknown[0]}")
    sns = definition.get("SnsDestination") or {}
    return config_store.Destination(
        name,
        bool(definition.get("Enabled", False)),
        types,
        str(sns.get("TopicArn") or ""),
        definition,
    )


def destination_json(dest: config_store.Destination) -> dict[str, Any]:
    out = {k: v for k, v in dest.definition.items() if k not in ("Enabled", "MatchingEventTypes")}
    return {
        "Name": dest.name,
        "Enabled": dest.enabled,
        "MatchingEventTypes": dest.event_types,
        **out,
    }


@router.post("/v2/email/configuration-sets")
async def create_set(request: Request) -> Response:
    _, data = await caller_and_body(request)
    sandbox: Sandbox = request.app.state.sandbox
    name = str(required(data, "ConfigurationSetName"))
    options = {k: data[k] for k in SET_OPTIONS if k in data}
    if not await sandbox.db.write(lambda c: config_store.create_set(c, name, options)):
        raise SesError(CONFIG_SET_EXISTS, f"Configuration set <{name}> already exists.")
    return answer()


@router.get("/v2/email/configuration-sets/{name}")
async def get_set(request: Request, name: str) -> Response:
    authorize(request)
    sandbox: Sandbox = request.app.state.sandbox
    options = await sandbox.db.read(lambda c: config_store.get_set(c, name))
    if options is None:
        raise set_missing(name)
    return answer({"ConfigurationSetName": name, **options})


@router.post("/v2/email/list-configuration-sets")
async def list_sets(request: Request) -> Response:
    _, data = await caller_and_body(request)
    sandbox: Sandbox = request.app.state.sandbox
    after, size = page(data.get("NextToken"), data.get("PageSize"))
    names = await sandbox.db.read(lambda c: config_store.set_names(c, after, size + 1))
    out: dict[str, Any] = {"ConfigurationSets": names[:size]}
    if len(names) > size:
        out["NextToken"] = names[size - 1]
    return answer(out)


@router.delete("/v2/email/configuration-sets/{name}")
async def delete_set(request: Request, name: str) -> Response:
    authorize(request)
    sandbox: Sandbox = request.app.state.sandbox
    if not await sandbox.db.write(lambda c: config_store.delete_set(c, name)):
        raise set_missing(name)
    return answer()


@router.put("/v2/email/configuration-sets/{name}/{option}")
async def put_set_option(request: Request, name: str, option: str) -> Response:
    """``PutConfigurationSet...Options``: the body becomes that options block."""
    _, data = await caller_and_body(request)
    key = OPTION_PATHS.get(option)
    if key is None:
        raise SesError(BAD_REQUEST, f"Unknown configuration set option {option}.")
    sandbox: Sandbox = request.app.state.sandbox

    def write(conn: Connection) -> bool:
        options = config_store.get_set(conn, name)
        if options is None:
            return False
        options[key] = data
        return config_store.update_set(conn, name, options)

    if not await sandbox.db.write(write):
        raise set_missing(name)
    return answer()


@router.post("/v2/email/configuration-sets/{name}/event-destinations")
async def create_destination(request: Request, name: str) -> Response:
    _, data = await caller_and_body(request)
    sandbox: Sandbox = request.app.state.sandbox
    dest = destination(
        str(required(data, "EventDestinationName")), required(data, "EventDestination")
    )

    def write(conn: Connection) -> str:
        if config_store.get_set(conn, name) is None:
            return "missing"
        if any(d.name == dest.name for d in config_store.destinations(conn, name)):
            return "exists"
        config_store.save_destination(conn, name, dest)
        return ""

    outcome = await sandbox.db.write(write)
    if outcome == "missing":
        raise set_missing(name)
    if outcome == "exists":
        raise SesError(DESTINATION_EXISTS, f"Event destination {dest.name} already exists.")
    return answer()


@router.get("/v2/email/configuration-sets/{name}/event-destinations")
async def get_destinations(request: Request, name: str) -> Response:
    authorize(request)
    sandbox: Sandbox = request.app.state.sandbox

    def read(conn: Connection) -> list[config_store.Destination] | None:
        if config_store.get_set(conn, name) is None:
            return None
        return config_store.destinations(conn, name)

    found = await sandbox.db.read(read)
    if found is None:
        raise set_missing(name)
    return answer({"EventDestinations": [destination_json(d) for d in found]})


@router.put("/v2/email/configuration-sets/{name}/event-destinations/{dest_name}")
async def update_destination(request: Request, name: str, dest_name: str) -> Response:
    _, data = await caller_and_body(request)
    sandbox: Sandbox = request.app.state.sandbox
    dest = destination(dest_name, required(data, "EventDestination"))

    def write(conn: Connection) -> str:
        if config_store.get_set(conn, name) is None:
            return "set"
        if not any(d.name == dest_name for d in config_store.destinations(conn, name)):
            return "destination"
        config_store.save_destination(conn, name, dest)
        return ""

    missing = await sandbox.db.write(write)
    if missing == "set":
        raise set_missing(name)
    if missing:
        raise SesError(DESTINATION_MISSING, f"Event destination {dest_name} does not exist.")
    return answer()


@router.delete("/v2/email/configuration-sets/{name}/event-destinations/{dest_name}")
async def delete_destination(request: Request, name: str, dest_name: str) -> Response:
    authorize(request)
    sandbox: Sandbox = request.app.state.sandbox
    if not await sandbox.db.write(lambda c: config_store.delete_destination(c, name, dest_name)):
        raise SesError(DESTINATION_MISSING, f"Event destination {dest_name} does not exist.")
    return answer()


@router.get("/v2/email/account")
async def get_account(request: Request) -> Response:
    authorize(request)
    state = sending.account(request.app.state.sandbox)
    return answer(
        {
            "DedicatedIpAutoWarmupEnabled": False,
            "EnforcementStatus": "HEALTHY",
            "ProductionAccessEnabled": True,
            "SendQuota": {
                "Max24HourSend": MAX_24_HOUR_SEND,
                "MaxSendRate": MAX_SEND_RATE,
                "SentLast24Hours": 0.0,
            },
            "SendingEnabled": state.sending_enabled,
            "SuppressionAttributes": {"SuppressedReasons": state.suppressed_reasons},
        }
    )


@router.put("/v2/email/account/sending")
async def put_sending(request: Request) -> Response:
    _, data = await caller_and_body(request)
    sandbox: Sandbox = request.app.state.sandbox
    state = sending.account(sandbox)
    state.sending_enabled = bool(data.get("SendingEnabled", False))
    await sending.save_account(sandbox)
    return answer()


@router.put("/v2/email/account/suppression")
async def put_suppression(request: Request) -> Response:
    _, data = await caller_and_body(request)
    sandbox: Sandbox = request.app.state.sandbox
    reasons = [str(r) for r in data.get("SuppressedReasons") or []]
    if any(r not in ("BOUNCE", "COMPLAINT") for r in reasons):
        raise SesError(BAD_REQUEST, "SuppressedReasons may hold BOUNCE and COMPLAINT only.")
    state = sending.account(sandbox)
    state.suppressed_reasons = reasons
    await sending.save_account(sandbox)
    return answer()
