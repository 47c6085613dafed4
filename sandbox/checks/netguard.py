"""Which addresses an outbound check may reach: Mailpit's internal-address rule, plus loopback.

Mailpit (``internal/tools/net.go``) refuses loopback, private, link-local, multicast,
unspecified, CGNAT (100.64.0.0/10), site-local (fec0::/10) and documentation (2001:db8::/32)
addresses, including IPv6 forms that embed such an IPv4 (NAT64, 6to4, Teredo, ISATAP,
IPv4-compatible). mailsandbox keeps that rule but lets **loopback** through (the developer's
app runs there), except the sandbox's own listening ports; ``--allow-internal-http-requests``
lets every internal range through.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4_INTERNAL = [
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "224.0.0.0/4",
        "100.64.0.0/10", "0.0.0.0/32", "127.0.0.0/8",
    )
]  # fmt: skip
_V6_INTERNAL = [
    ipaddress.ip_network(n)
    for n in (
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
        "fec0::/10",
        "2001:db8::/32",
        "::/128",
        "::1/128",
    )
]
_NAT64 = [ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48")]
_COMPATIBLE = ipaddress.ip_network("::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 transition form carries, if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    raw = ip.packed
    if any(ip in n for n in _NAT64) or ip in _COMPATIBLE:
        return ipaddress.IPv4Address(raw[12:16])
    if ip in _SIX_TO_FOUR:
        return ipaddress.IPv4Address(raw[2:6])
    if ip in _TEREDO:
        return ipaddress.IPv4Address(bytes(b ^ 0xFF for b in raw[12:16]))
    if raw[10:12] == b"\x5e\xfe":  # ISATAP
        return ipaddress.IPv4Address(raw[12:16])
    return None


def is_internal(ip: IPAddress) -> bool:
    """Mailpit's ``IsInternalIP``."""
    if isinstance(ip, ipaddress.IPv4Address):
        return any(ip in n for n in _V4_INTERNAL)
    if any(ip in n for n in _V6_INTERNAL):
        return True
    inner = embedded_ipv4(ip)
    return inner is not None and is_internal(inner)


def is_loopback(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


@dataclass(frozen=True)
class Policy:
    """What a check may connect to."""

    allow_internal: bool = False
    own_ports: frozenset[int] = frozenset()  # the sandbox's listening ports, never checked

    def refusal(self, ip: IPAddress, port: int) -> str | None:
        """Why ``ip:port`` may not be reached (the Status text), or None if it may."""
        local = is_loopback(ip) or ip.is_unspecified
        if local and port in self.own_ports:
            return "Blocked: this sandbox"
        if self.allow_internal or is_loopback(ip):
            return None
        if is_internal(ip):
            return "Blocked private/reserved address"
        return None
