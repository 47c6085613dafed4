"""``mailsandbox.client``: sync and async Python clients for a running mailsandbox (on httpx).

from mailsandbox.client import Client
with Client("http://127.0.0.1:8025") as sandbox:
    inbox = sandbox.inbox("signup-tests")
    msg = inbox.wait_for(to="ann@example.com", subject="Confirm", timeout=5)
    confirm = msg.links(containing="/confirm")[0]
"""

from mailsandbox.client.aio import AsyncClient
from mailsandbox.client.calls import MessageNotFound, SandboxError, WaitTimeout, build_query
from mailsandbox.client.models import (
    Address,
    Attachment,
    Code,
    Delivery,
    Esp,
    Event,
    File,
    Finding,
    Inbox,
    Link,
    Message,
    Summary,
)
from mailsandbox.client.sync import Client

__all__ = [
    "Address",
    "AsyncClient",
    "Attachment",
    "Client",
    "Code",
    "Delivery",
    "Esp",
    "Event",
    "File",
    "Finding",
    "Inbox",
    "Link",
    "Message",
    "MessageNotFound",
    "SandboxError",
    "Summary",
    "WaitTimeout",
    "build_query",
]
