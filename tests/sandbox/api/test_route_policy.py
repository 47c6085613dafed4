"""Every route of the app, with the policy it is served under (``mailsandbox.api.surface``).

The table below is the reviewed list. A new route fails this test until it is added here
with its policy, and a route whose path no family claims (so the security layer answers 404
for it) fails too: no route can reach users without a declared policy. Changing a route's
policy (say, making an ESP management route public) shows up as a diff of this table.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from starlette.datastructures import Headers
from starlette.routing import Mount

from mailsandbox.api.surface import POLICIES, Surface
from mailsandbox.app import create_app
from mailsandbox.config import Settings
from mailsandbox.emulators.common.routing import PrefixRoute, root_specs
from mailsandbox.runner import start_in_thread
from tests.conftest import make_settings

EXPECTED: dict[str, list[str]] = {
    "probe": ["GET /livez", "GET /readyz"],
    "api": [
        "DELETE /api/v1/messages",
        "DELETE /api/v1/messages/",
        "DELETE /api/v1/inbox-rules/{rule_id}",
        "DELETE /api/v1/messages/{message_id}",
        "DELETE /api/v1/rules/{rule_id}",
        "DELETE /api/v1/search",
        "DELETE /api/v1/tags/{tag:path}",
        "GET /api/v1/chaos",
        "GET /api/v1/export",
        "GET /api/v1/inbox-rules",
        "GET /api/v1/inboxes",
        "GET /api/v1/info",
        "GET /api/v1/message/{message_id}",
        "GET /api/v1/message/{message_id}/codes",
        "GET /api/v1/message/{message_id}/esp",
        "GET /api/v1/message/{message_id}/events",
        "GET /api/v1/message/{message_id}/headers",
        "GET /api/v1/message/{message_id}/html-check",
        "GET /api/v1/message/{message_id}/inbound",
        "GET /api/v1/message/{message_id}/link-check",
        "GET /api/v1/message/{message_id}/links",
        "GET /api/v1/message/{message_id}/lint",
        "GET /api/v1/message/{message_id}/part/{part_id}/thumb",
        "GET /api/v1/message/{message_id}/raw",
        "GET /api/v1/message/{message_id}/sa-check",
        "GET /api/v1/message/{message_id}/releases",
        "GET /api/v1/message/{message_id}/tracking",
        "GET /api/v1/messages",
        "GET /api/v1/openapi.json",
        "GET /api/v1/rules",
        "GET /api/v1/search",
        "GET /api/v1/stream",
        "GET /api/v1/tags",
        "GET /api/v1/wait",
        "GET /api/v1/webhooks/deliveries",
        "GET /api/v1/webui",
        "GET /api/v2/messages",
        "GET /api/v2/search",
        "GET /view/{message_id}.html",
        "GET /view/{message_id}.txt",
        "GET /metrics",
        "HEAD /api/v1/openapi.json",
        "POST /api/v1/inbound",
        "PATCH /api/v1/rules/{rule_id}",
        "POST /api/v1/import",
        "POST /api/v1/inbox-rules",
        "POST /api/v1/message/{message_id}/events",
        "POST /api/v1/message/{message_id}/release",
        "POST /api/v1/rules",
        "POST /api/v1/send",
        "POST /api/v1/webhooks/deliveries/{outbox_id}/replay",
        "PUT /api/v1/chaos",
        "PUT /api/v1/messages",
        "PUT /api/v1/tags",
        "PUT /api/v1/tags/{tag:path}",
        "WEBSOCKET /api/events",
    ],
    "message-content": [
        "GET /api/v1/message/{message_id}/part/{part_id}",
        "GET /t/click/{token}",
        "GET /t/open/{token}.gif",
        "GET /t/view/{token}",
        "GET /ui/message/{message_id}/part/{part_id}",
    ],
    "ui-page": [
        "GET /",
        "GET /api/docs",
        "GET /api/docs/assets/{name}",
        "GET /ui/compose",
        "GET /ui/events",
        "GET /ui/inboxes",
        "GET /ui/list",
        "GET /ui/message/{message_id}/checks/html",
        "GET /ui/message/{message_id}/checks/lint",
        "GET /ui/message/{message_id}/checks/source",
        "GET /ui/message/{message_id}/checks/spam",
        "GET /ui/message/{message_id}/codes",
        "GET /ui/message/{message_id}/download/{kind}",
        "GET /ui/message/{message_id}/events",
        "GET /ui/message/{message_id}/gone",
        "GET /ui/message/{message_id}/inbound",
        "GET /ui/message/{message_id}/links",
        "GET /ui/message/{message_id}/preview",
        "GET /ui/message/{message_id}/raw",
        "GET /ui/message/{message_id}/snapshot",
        "GET /ui/rules",
        "GET /ui/static/{path:path}",
        "GET /ui/suppressions",
        "GET /view/latest",
        "GET /view/{message_id}",
    ],
    "ui-action": [
        "POST /ui/compose",
        "GET /ui/message/{message_id}/checks/links",
        "POST /ui/message/{message_id}/delete",
        "POST /ui/message/{message_id}/tags",
        "POST /ui/inboxes/rules",
        "POST /ui/inboxes/rules/{rule_id}/delete",
        "POST /ui/message/{message_id}/release",
        "POST /ui/message/{message_id}/unread",
        "POST /ui/messages/bulk",
        "POST /ui/messages/delete-all",
        "POST /ui/messages/delete-search",
        "POST /ui/messages/read-all",
        "POST /ui/rules",
        "POST /ui/rules/{rule_id}/delete",
        "POST /ui/rules/{rule_id}/enabled",
        "POST /ui/rules/{rule_id}/move",
        "POST /ui/suppressions/clear",
        "POST /ui/suppressions/remove",
        "POST /ui/tags/delete",
        "POST /ui/tags/rename",
        "POST /ui/webhooks/{outbox_id}/replay",
    ],
    "esp-send": [
        "GET /SimpleNotificationService-{name}",
        "GET /sns",
        "HEAD /SimpleNotificationService-{name}",
        "HEAD /sns",
        "POST /",
        "POST /email",
        "POST /email/batch",
        "POST /email/batch/",
        "POST /email/batchWithTemplates",
        "POST /email/batchWithTemplates/",
        "POST /email/withTemplate",
        "POST /email/withTemplate/",
        "POST /emails",
        "POST /emails/batch",
        "POST /v2/email/outbound-bulk-emails",
        "POST /v2/email/outbound-emails",
        "POST /v3/mail/send",
        "POST /v3/{domain:mgdomain}/messages",
        "POST /v3/{domain:mgdomain}/messages.mime",
    ],
    "esp-manage": [
        # SendGrid
        "DELETE /v3/asm/suppressions/global/{email}",
        "DELETE /v3/suppression/{list_name}",
        "DELETE /v3/suppression/{list_name}/{email}",
        "DELETE /v3/templates/{template_id}",
        "DELETE /v3/templates/{template_id}/versions/{version_id}",
        "DELETE /v3/user/webhooks/event/settings/{webhook_id}",
        "GET /v3/asm/suppressions/global/{email}",
        "GET /v3/suppression/{list_name}",
        "GET /v3/suppression/{list_name}/{email}",
        "GET /v3/templates",
        "GET /v3/templates/{template_id}",
        "GET /v3/templates/{template_id}/versions/{version_id}",
        "GET /v3/user/webhooks/event/settings",
        "GET /v3/user/webhooks/event/settings/all",
        "GET /v3/user/webhooks/event/settings/signed",
        "GET /v3/user/webhooks/event/settings/signed/{webhook_id}",
        "GET /v3/user/webhooks/event/settings/{webhook_id}",
        "PATCH /v3/templates/{template_id}",
        "PATCH /v3/templates/{template_id}/versions/{version_id}",
        "PATCH /v3/user/webhooks/event/settings",
        "PATCH /v3/user/webhooks/event/settings/signed",
        "PATCH /v3/user/webhooks/event/settings/signed/{webhook_id}",
        "PATCH /v3/user/webhooks/event/settings/{webhook_id}",
        "POST /v3/asm/suppressions/global",
        "POST /v3/suppression/{list_name}",
        "POST /v3/templates",
        "POST /v3/templates/{template_id}/versions",
        "POST /v3/templates/{template_id}/versions/{version_id}/activate",
        "POST /v3/user/webhooks/event/settings",
        "POST /v3/user/webhooks/event/test",
        # Mailgun
        "DELETE /v3/domains/{domain}/webhooks/{name}",
        "DELETE /v3/{domain:mgdomain}/templates",
        "DELETE /v3/{domain:mgdomain}/templates/{name}",
        "DELETE /v3/{domain:mgdomain}/templates/{name}/versions/{tag}",
        "DELETE /v3/{domain:mgdomain}/{table:mgsuppression}",
        "DELETE /v3/{domain:mgdomain}/{table:mgsuppression}/{address}",
        "GET /v3/domains/{domain}/messages/{key}",
        "GET /v3/domains/{domain}/webhooks",
        "GET /v3/domains/{domain}/webhooks/{name}",
        "GET /v3/{domain:mgdomain}/events",
        "GET /v3/{domain:mgdomain}/events/{token}",
        "GET /v3/{domain:mgdomain}/templates",
        "GET /v3/{domain:mgdomain}/templates/{name}",
        "GET /v3/{domain:mgdomain}/templates/{name}/versions",
        "GET /v3/{domain:mgdomain}/templates/{name}/versions/{tag}",
        "GET /v3/{domain:mgdomain}/{table:mgsuppression}",
        "GET /v3/{domain:mgdomain}/{table:mgsuppression}/{address}",
        "GET /v5/accounts/http_signing_key",
        "POST /v3/domains/{domain}/webhooks",
        "POST /v3/{domain:mgdomain}/templates",
        "POST /v3/{domain:mgdomain}/templates/{name}/versions",
        "POST /v3/{domain:mgdomain}/{table:mgsuppression}",
        "POST /v3/{domain:mgdomain}/{table:mgsuppression}/import",
        "PUT /v3/domains/{domain}/webhooks/{name}",
        "PUT /v3/domains/{domain}/webhooks/{name}/test",
        "PUT /v3/{domain:mgdomain}/templates/{name}",
        "PUT /v3/{domain:mgdomain}/templates/{name}/versions/{tag}",
        "DELETE /v3/routes/{route_id}",
        "DELETE /v3/user/webhooks/parse/settings/{hostname}",
        "GET /v3/domains/{domain}/messages/{key}/attachments/{number}",
        "GET /v3/routes",
        "GET /v3/routes/match",
        "GET /v3/routes/{route_id}",
        "GET /v3/user/webhooks/parse/settings",
        "GET /v3/user/webhooks/parse/settings/{hostname}",
        "PATCH /v3/user/webhooks/parse/settings/{hostname}",
        "POST /v3/routes",
        "POST /v3/user/webhooks/parse/settings",
        "PUT /v3/routes/{route_id}",
        # Amazon SES v2
        "DELETE /v2/email/configuration-sets/{name}",
        "DELETE /v2/email/configuration-sets/{name}/event-destinations/{dest_name}",
        "DELETE /v2/email/suppression/addresses/{email}",
        "DELETE /v2/email/templates/{name}",
        "DELETE /v2/email/{path:path}",
        "GET /v2/email/account",
        "GET /v2/email/configuration-sets/{name}",
        "GET /v2/email/configuration-sets/{name}/event-destinations",
        "GET /v2/email/suppression/addresses",
        "GET /v2/email/suppression/addresses/{email}",
        "GET /v2/email/templates",
        "GET /v2/email/templates/{name}",
        "GET /v2/email/{path:path}",
        "PATCH /v2/email/{path:path}",
        "POST /v2/email/configuration-sets",
        "POST /v2/email/configuration-sets/{name}/event-destinations",
        "POST /v2/email/list-configuration-sets",
        "POST /v2/email/templates",
        "POST /v2/email/templates/{name}/render",
        "POST /v2/email/{path:path}",
        "PUT /v2/email/account/sending",
        "PUT /v2/email/account/suppression",
        "PUT /v2/email/configuration-sets/{name}/event-destinations/{dest_name}",
        "PUT /v2/email/configuration-sets/{name}/{option}",
        "PUT /v2/email/suppression/addresses",
        "PUT /v2/email/templates/{name}",
        "PUT /v2/email/{path:path}",
        "DELETE /v1/webhooks",
        "DELETE /v1/webhooks/{webhook_id}",
        "DELETE /v3/asm/groups/{group_id}",
        "DELETE /v3/asm/groups/{group_id}/suppressions/{email}",
        "DELETE /v3/user/scheduled_sends/{batch_id}",
        "DELETE /v3/{domain:mgdomain}/tag",
        "DELETE /v3/{domain:mgdomain}/tags/{tag}",
        "DELETE /v4/domains/{domain}/webhooks",
        "GET /v1/webhooks",
        "GET /v1/webhooks/{webhook_id}",
        "GET /v3/asm/groups",
        "GET /v3/asm/groups/{group_id}",
        "GET /v3/asm/groups/{group_id}/suppressions",
        "GET /v3/asm/suppressions",
        "GET /v3/asm/suppressions/{email}",
        "GET /v3/domains",
        "GET /v3/domains/{domain}",
        "GET /v3/mail/batch/{batch_id}",
        "GET /v3/messages",
        "GET /v3/messages/{msg_id}",
        "GET /v3/scopes",
        "GET /v3/suppression/bounces/classifications",
        "GET /v3/suppression/bounces/classifications/{classification}",
        "GET /v3/user/scheduled_sends",
        "GET /v3/user/scheduled_sends/{batch_id}",
        "GET /v3/{domain:mgdomain}/stats/total",
        "GET /v3/{domain:mgdomain}/tag",
        "GET /v3/{domain:mgdomain}/tags",
        "GET /v3/{domain:mgdomain}/tags/{tag}",
        "GET /v3/{domain:mgdomain}/tags/{tag}/stats",
        "GET /v4/domains",
        "GET /v4/domains/{domain}",
        "PATCH /v3/asm/groups/{group_id}",
        "PATCH /v3/user/scheduled_sends/{batch_id}",
        "POST /v1/analytics/logs",
        "POST /v1/webhooks",
        "POST /v3/asm/groups",
        "POST /v3/asm/groups/{group_id}/suppressions",
        "POST /v3/asm/groups/{group_id}/suppressions/search",
        "POST /v3/domains/{domain}/messages/{key}",
        "POST /v3/mail/batch",
        "POST /v3/user/scheduled_sends",
        "POST /v4/domains/{domain}/webhooks",
        "PUT /v1/webhooks/{webhook_id}",
        "PUT /v3/{domain:mgdomain}/tag",
        "PUT /v3/{domain:mgdomain}/tags/{tag}",
        "PUT /v4/domains/{domain}/webhooks",
        "DELETE /v3/{domain:mgdomain}/templates/",
        "DELETE /v3/{domain:mgdomain}/{table:mgsuppression}/",
        # Postmark and Resend at the root (/templates and /webhooks: both, by credentials)
        "DELETE /api-keys/{key}",
        "DELETE /domains/{domain}",
        "DELETE /templates/{template}",
        "DELETE /webhooks/{webhook}",
        "GET /api-keys",
        "GET /bounces",
        "GET /bounces/",
        "GET /bounces/tags",
        "GET /bounces/{bounce}",
        "GET /bounces/{bounce}/dump",
        "GET /deliverystats",
        "GET /domains",
        "GET /domains/{domain}",
        "GET /emails",
        "GET /emails/{email}",
        "GET /message-streams",
        "GET /message-streams/{stream}",
        "GET /message-streams/{stream}/suppressions/dump",
        "GET /messages/outbound",
        "GET /messages/outbound/clicks",
        "GET /messages/outbound/clicks/{message}",
        "GET /messages/outbound/opens",
        "GET /messages/outbound/opens/{message}",
        "GET /messages/outbound/{message}/details",
        "GET /messages/outbound/{message}/dump",
        "GET /templates",
        "GET /templates/{template}",
        "GET /webhooks",
        "GET /webhooks/{webhook}",
        "PATCH /emails/{email}",
        "PATCH /message-streams/{stream}",
        "PATCH /templates/{template}",
        "PATCH /webhooks/{webhook}",
        "POST /api-keys",
        "POST /domains",
        "POST /domains/{domain}/verify",
        "POST /emails/{email}/cancel",
        "POST /message-streams",
        "POST /message-streams/{stream}/archive",
        "POST /message-streams/{stream}/suppressions",
        "POST /message-streams/{stream}/suppressions/delete",
        "POST /message-streams/{stream}/unarchive",
        "POST /templates",
        "POST /templates/",
        "POST /templates/validate",
        "POST /templates/{template}/duplicate",
        "POST /templates/{template}/publish",
        "POST /webhooks",
        "PUT /bounces/{bounce}/activate",
        "PUT /templates/{template}",
        "PUT /webhooks/{webhook}",
    ],
}
SAMPLES = {"domain": "mg.example.com", "table": "bounces", "path": "app.css", "tag": "a/b"}
_PARAM = re.compile(r"{([a-zA-Z_]\w*)(?::\w+)?}")


def sample_path(template: str) -> str:
    """A concrete path the route matches (``/v3/{domain:mgdomain}/events`` gives
    ``/v3/mg.example.com/events``)."""
    return _PARAM.sub(lambda m: SAMPLES.get(m.group(1), "x1"), template)


def routes_of(app: FastAPI) -> list[tuple[str, str]]:
    """The app's routes as ``(method, path template)``, mounts, WebSockets and the providers'
    routes at the root (Postmark's, Resend's) included."""
    routes: list[tuple[str, str]] = root_specs(app)
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            routes.append(("GET", f"{route.path}/{{path:path}}"))
            continue
        if isinstance(route, PrefixRoute):  # listed by root_specs
            continue
        assert context.path, route
        methods = context.methods or {"WEBSOCKET"}
        routes.extend((method, context.path) for method in methods)
    return sorted(set(routes))


def test_every_route_has_the_policy_this_table_declares(tmp_path: Path) -> None:
    app = create_app(Settings(db=str(tmp_path / "policy.db")))
    surface: Surface = app.state.surface
    expected = {spec: policy for policy, specs in EXPECTED.items() for spec in specs}
    actual: dict[str, str] = {}
    unclaimed = []
    for method, template in routes_of(app):
        resolved = surface.resolve(
            "GET" if method == "WEBSOCKET" else method, sample_path(template), Headers()
        )
        if resolved is None:
            unclaimed.append(f"{method} {template}")
            continue
        actual[f"{method} {template}"] = resolved[1].name
    assert unclaimed == [], "routes no family claims (unreachable): add their family"
    undeclared = sorted(set(actual) - set(expected))
    assert undeclared == [], "routes missing from EXPECTED: review and declare their policy"
    assert sorted(set(expected) - set(actual)) == [], "EXPECTED lists routes the app lacks"
    wrong = {s: (actual[s], policy) for s, policy in expected.items() if actual[s] != policy}
    assert wrong == {}, "route: (actual policy, expected policy)"


def test_the_table_names_only_known_policies() -> None:
    assert set(EXPECTED) == {policy.name for policy in POLICIES}


def test_a_route_outside_every_family_is_not_served(tmp_path: Path) -> None:
    """A route added without joining the table is unreachable, not silently public."""
    settings = make_settings(tmp_path)
    app = create_app(settings)

    @app.get("/stray")
    async def stray() -> dict[str, str]:
        return {"secret": "mail"}

    surface: Surface = app.state.surface
    assert surface.resolve("GET", "/stray", Headers()) is None
    running = start_in_thread(settings, app=app)
    try:
        answer = httpx.get(running.url + "/stray", timeout=10)
        assert (answer.status_code, answer.text) == (404, "404 page not found\n")
    finally:
        running.stop()


def test_the_memo_answers_as_the_families_do(tmp_path: Path) -> None:
    """The surface remembers its answer per (method, path) except where a claim reads
    headers (Postmark's token on /templates and /webhooks, shared with Resend): every route,
    with and without that header, asked twice, resolves as the families decide afresh."""
    app = create_app(Settings(db=str(tmp_path / "memo.db")))
    surface: Surface = app.state.surface
    assert surface._cache is not None  # every claim says where it reads headers
    postmark = Headers({"X-Postmark-Server-Token": "POSTMARK_API_TEST"})
    owners = set()
    for method, template in routes_of(app):
        verb, path = "GET" if method == "WEBSOCKET" else method, sample_path(template)
        for headers in (Headers(), postmark, Headers()):
            family = surface.family_for(verb, path, headers)
            plain = None if family is None else (family, family.policy_for(verb, path))
            assert surface.resolve(verb, path, headers) == plain, (verb, path, headers)
            owners.add((path, None if family is None else family.name))
    assert ("/templates", "postmark") in owners and ("/templates", "resend") in owners
