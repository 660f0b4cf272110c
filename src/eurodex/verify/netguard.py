"""Address safety for the verifier: which IP addresses a check may connect to.

The URLs the verifier fetches come from harvested catalogues and public submissions, so a
hostile entry could point the checker at the machine it runs on, at the private network
behind it, or at a cloud metadata service (169.254.169.254). The guard is consulted on the
*resolved* address of every hop (and on IP-literal URLs, which aiohttp never resolves), so
a public name that redirects to, or resolves to, an internal address is refused before any
byte is sent to it.

Only globally routable unicast addresses are allowed by default. Explicit exceptions are the
``allowed_networks`` of the settings and the targets of ``host_overrides`` (the latter only
for the overridden name: an override is a deliberate operator decision about one host, not a
blanket permission for its target address).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_MEMO_SIZE = 65_536

#: Reason recorded on a check that the guard refused.
BLOCKED_REASON = "blocked_address"


class BlockedAddressError(OSError):
    """Raised (from the resolver or the connector) when an address is not allowed.

    It subclasses OSError because aiohttp wraps resolver OSErrors into its own connector
    errors; the checker finds this instance on the exception chain and reports
    ``blocked_address`` instead of a DNS failure.
    """

    def __init__(self, host: str, address: str, category: str) -> None:
        super().__init__(f"refused to connect to {host} at {address} ({category} address)")
        self.host = host
        self.address = address
        self.category = category


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried inside an IPv6 one, so ::ffff:127.0.0.1 is judged as 127.0.0.1."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def classify(ip: IPAddress) -> str | None:
    """Return why ``ip`` is not a public unicast address, or None when it is one.

    The named categories make the stored error snippet useful to a reader; anything not
    globally routable that fits none of them is reported as "reserved" (documentation,
    benchmarking, shared address space, ...).
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "link-local"
        inner = _embedded_ipv4(ip)
        if inner is not None:
            found = classify(inner)
            if found is not None:
                return found
            if ip.ipv4_mapped is not None:
                return None
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if ip.is_reserved:
        return "reserved"
    if not ip.is_global:
        return "reserved"
    return None


def parse_ip(text: str) -> IPAddress | None:
    """Parse an IP literal (IPv6 with or without brackets or zone id); None if not one."""
    candidate = text.strip("[]")
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


class AddressGuard:
    """Decides whether a connection to an address is allowed.

    ``enabled=False`` turns the guard off entirely (only for local experiments: never for
    data that came from outside).
    """

    def __init__(self, allowed_networks: Iterable[str] = (), *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._allowed: list[IPNetwork] = [
            ipaddress.ip_network(net, strict=False) for net in allowed_networks
        ]
        # The guard runs on every request; parsing with ipaddress is the costly part, and
        # a round meets few distinct addresses, so decisions are memoised (bounded).
        self._memo: dict[str, str | None] = {}

    def refusal(self, address: str) -> str | None:
        """Return the category that makes ``address`` refused, or None when allowed."""
        if not self.enabled:
            return None
        try:
            return self._memo[address]
        except KeyError:
            pass
        decision = self._decide(address)
        if len(self._memo) >= _MEMO_SIZE:
            self._memo.clear()
        self._memo[address] = decision
        return decision

    def _decide(self, address: str) -> str | None:
        ip = parse_ip(address)
        if ip is None:
            return "unparseable"
        plain = ipaddress.ip_address(str(ip).split("%", 1)[0])
        if any(plain.version == net.version and plain in net for net in self._allowed):
            return None
        return classify(ip)

    def check(self, host: str, address: str) -> None:
        """Raise BlockedAddressError when ``address`` (that ``host`` resolved to) is refused."""
        category = self.refusal(address)
        if category is not None:
            raise BlockedAddressError(host, address, category)
