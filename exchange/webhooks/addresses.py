"""Where a webhook may send: never into the server's own networks, unless the administrator allows it.

A target's host is resolved, and every address it resolves to must be public: private (RFC 1918, unique
local), loopback, link-local (cloud metadata at 169.254.169.254 among them), multicast, reserved,
unspecified and other non-global ranges are refused, in IPv4 and IPv6 alike, an IPv6 address that
carries an IPv4 one (``::ffff:127.0.0.1``, NAT64, 6to4) judged by the IPv4 address it carries. The
check is made when a webhook is saved (the administrator reads why) and again at each delivery, which
then connects to exactly the address that was checked: a name that resolves differently a moment later
(DNS rebinding) cannot slip a private address past it. ``allow_private`` (the instance's
WEBHOOKS_ALLOW_PRIVATE) lets private, loopback and link-local addresses through, for a receiver on the
same network; multicast, unspecified and reserved addresses are never a receiver.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import urllib.parse
from dataclasses import dataclass

from exchange.catalogs import N_
from exchange.catalogs import Message
from exchange.errors import Invalid

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: the longest target address accepted
MAX_URL = 2000

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class RefusedTarget(Invalid):
    """A webhook's target address is refused; the message names the address and why."""


@dataclass(frozen=True)
class Target:
    """A checked target: the URL's parts, and the address to connect to (one that passed the guard)."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


def parse(url: str) -> urllib.parse.SplitResult:
    """``url`` split, when it is an http(s) address a webhook may have; else RefusedTarget naming the problem."""
    url = url.strip()
    if not url or len(url) > MAX_URL:
        raise RefusedTarget(Message(N_("The target address must be 1 to %(count)s characters."), count=MAX_URL))
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number or out of range
    except ValueError:
        raise RefusedTarget(Message(N_("%(url)s is not a web address."), url=repr(url))) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedTarget(Message(N_("%(url)s is not a web address: it must start with https:// or http:// "
                                       "and name a host."), url=repr(url)))
    if parts.username is not None or parts.password is not None:
        raise RefusedTarget(Message(N_("%(url)s contains a user name or password; put credentials in the "
                                       "receiver's own check of the signature instead."), url=repr(url)))
    if parts.fragment:
        raise RefusedTarget(Message(N_("%(url)s has a fragment (#…), which is never sent."), url=repr(url)))
    return parts


def why_refused(address: IPAddress, allow_private: bool = False) -> str | None:
    """Why ``address`` may not receive webhooks (catalog message), or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        carried = address.ipv4_mapped or address.sixtofour
        if carried is None and address in _NAT64:
            carried = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if carried is None and address.teredo is not None:
            carried = address.teredo[1]
        if carried is not None:
            return why_refused(carried, allow_private)
    if address.is_unspecified:
        return N_("it is the unspecified address")
    if address.is_multicast:
        return N_("it is a multicast address")
    if allow_private and (address.is_private or address.is_loopback or address.is_link_local):
        return None
    if address.is_loopback:
        return N_("it is a loopback address (this server itself)")
    if address.is_link_local:
        return N_("it is a link-local address (such as a cloud metadata service)")
    if address.is_private:
        return N_("it is a private network address")
    if address.is_reserved or not address.is_global:
        return N_("it is a reserved address, not on the public internet")
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (an address written as one is itself); RefusedTarget when none."""
    literal = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return [ipaddress.ip_address(literal)]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(literal, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:  # the resolver's own words ("[Errno -2] …") are English only
        log.info("webhook host %r could not be resolved: %s", host, error)
        raise RefusedTarget(Message(N_("The host %(host)s could not be found."), host=repr(host))) from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise RefusedTarget(Message(N_("The host %(host)s could not be found."), host=repr(host)))
    return addresses


def check(url: str, allow_private: bool = False) -> Target:
    """The target ``url`` names, with the address to connect to; RefusedTarget when any address it
    resolves to is refused (a name with one private address among public ones is refused whole)."""
    parts = parse(url)
    assert parts.hostname is not None  # parse refuses an address without a host
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(parts.hostname, port)
    for address in addresses:
        why = why_refused(address, allow_private)
        if why is not None:
            raise RefusedTarget(Message(N_("Webhooks may not be sent to %(host)s: %(address)s is refused because "
                                           "%(why)s. An administrator can allow private targets with the setting "
                                           "WEBHOOKS_ALLOW_PRIVATE."),
                                        host=parts.hostname, address=str(address), why=Message(why)))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path, str(addresses[0]))
