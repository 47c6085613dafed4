"""AWS identifiers as SES and SNS show them: the account, ARNs, message ids and request ids
(the timestamps of event records are ``common.events.iso_ms``).

The sandbox is one account (``ACCOUNT_ID``) in whatever region a request is signed for; stored
resources (templates, configuration sets, topics) are shared by every region.
"""

from __future__ import annotations

import time

from mailsandbox.emulators.common.ids import new_uuid

ACCOUNT_ID = "123456789012"  # the account id of AWS's own documentation examples
DEFAULT_REGION = "us-east-1"
# SubscribeURL and UnsubscribeURL: SNS's are ``https://sns.<region>.amazonaws.com/?Action=...``;
# here they have a path of their own, so they never share ``GET /`` with the UI's inbox.
LINK_PATH = "/sns"


def new_message_id() -> str:
    """An SES message id: ``0100`` + the time in ms (12 hex digits), a UUID, ``-000000``
    (``0100018f2c1a7b3e-9d6f...-000000``, as SES returns them)."""
    return f"0100{int(time.time() * 1000):012x}-{new_uuid()}-000000"


def message_id_domain(region: str) -> str:
    """The domain of the ``Message-ID`` SES writes: ``email.amazonses.com`` in us-east-1,
    ``<region>.amazonses.com`` elsewhere."""
    return "email.amazonses.com" if region == DEFAULT_REGION else f"{region}.amazonses.com"


def identity_arn(region: str, identity: str) -> str:
    return f"arn:aws:ses:{region}:{ACCOUNT_ID}:identity/{identity}"


def topic_arn(region: str, name: str) -> str:
    return f"arn:aws:sns:{region}:{ACCOUNT_ID}:{name}"


def arn_region(arn: str) -> str:
    """The region field of an ARN (``arn:aws:sns:eu-west-1:...``), or the default."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 4 and parts[3] else DEFAULT_REGION
