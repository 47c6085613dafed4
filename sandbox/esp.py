"""What an email service provider's API was told about a message: SendGrid categories and
custom args, Mailgun tags and user variables, and the rest of what each emulator keeps in the
message's ``metadata`` (under ``"sendgrid"`` / ``"mailgun"``).

The core does not import the emulators; it only reads the metadata they store. This module says
where the two things tests ask about most live in it, for the REST API (``GET
/api/v1/message/{ID}/esp``) and for search (``category:``, ``var:key=value``).
"""

from __future__ import annotations

from typing import Any

from mailsandbox.storage.messages import MessageSummary

# provider metadata key → (its categories' key, its variables' key)
FIELDS: dict[str, tuple[str, str]] = {
    "sendgrid": ("categories", "custom_args"),
    "mailgun": ("tags", "user_variables"),
}
CATEGORY_PATHS = tuple(f"$.{provider}.{keys[0]}" for provider, keys in FIELDS.items())
VARIABLE_PATHS = tuple(f"$.{provider}.{keys[1]}" for provider, keys in FIELDS.items())


def _block(metadata: dict[str, Any], provider: str) -> dict[str, Any] | None:
    block = metadata.get(provider)
    return block if isinstance(block, dict) else None


def esp_json(summary: MessageSummary) -> dict[str, Any]:
    """The ``/esp`` document of a message: which provider's API sent it, its categories (tags)
    and variables in one shape for both, and each provider's stored data as it is."""
    categories: list[Any] = []
    variables: dict[str, Any] = {}
    provider = ""
    for name, (category_key, variable_key) in FIELDS.items():
        block = _block(summary.metadata, name)
        if block is None:
            continue
        provider = provider or name
        found = block.get(category_key)
        categories += found if isinstance(found, list) else []
        found = block.get(variable_key)
        variables |= found if isinstance(found, dict) else {}
    return {
        "ID": summary.id,
        "Provider": provider,
        "Categories": categories,
        "Variables": variables,
        "SendGrid": _block(summary.metadata, "sendgrid"),
        "Mailgun": _block(summary.metadata, "mailgun"),
    }
