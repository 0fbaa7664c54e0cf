"""Loopback port helpers for local infrastructure and tests.

Free ports are chosen *below* the kernel's ephemeral range (``net.ipv4.ip_local_port_range``). The kernel hands
out ephemeral ports as the local end of every outgoing connection, so a port chosen there can be taken by any
client (a Kafka or Redis connection of another test) in the moment between our choice and the service's bind,
or before a killed Kafka node binds its port again. Below that range only an explicit bind can take a port.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Iterable
from pathlib import Path

_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
#: The lowest port we hand out (above the registered ports most local daemons use).
_LOWEST = 20000
_random = random.SystemRandom()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(part) for part in _RANGE_FILE.read_text().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now and outside the kernel's ephemeral range when possible
    (so that no outgoing connection takes it before the service binds it)."""
    low, _ = _ephemeral_range()
    if low - _LOWEST >= 1000:
        for _ in range(200):
            port = _random.randrange(_LOWEST, low)
            if port_bindable(port):  # also refuses a port something listens on (loopback or wildcard)
                return port
    # No room below the ephemeral range on this machine: let the kernel pick one.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        chosen: int = sock.getsockname()[1]
        return chosen


def free_ports(names: Iterable[str], avoid: Iterable[int] = ()) -> dict[str, int]:
    """A distinct :func:`free_port` for each of ``names``, none of them in ``avoid``."""
    taken = set(avoid)
    chosen: dict[str, int] = {}
    for name in names:
        port = free_port()
        while port in taken:
            port = free_port()
        taken.add(port)
        chosen[name] = port
    return chosen


def port_bindable(port: int, host: str = "127.0.0.1") -> bool:
    """True when a listening socket could bind ``host:port`` right now (as the services do: SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
