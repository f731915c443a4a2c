"""Which addresses a running process listens on, read from /proc (Linux), for the tests of who can reach what."""

from __future__ import annotations

import os
import socket
from pathlib import Path

TCP_LISTEN = "0A"  # the state column of /proc/net/tcp
LOOPBACK_ADDRESSES = {"127.0.0.1", "::1"}


def _address(hex_address: str) -> str:
    """An address of /proc/net/tcp{,6}: 32-bit words in the machine's (little-endian) order."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[index:index + 4][::-1] for index in range(0, len(raw), 4))
    return socket.inet_ntop(socket.AF_INET if len(raw) == 4 else socket.AF_INET6, words)


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket process ``pid`` listens on."""
    inodes = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(descriptor)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    listening = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text(encoding="ascii").splitlines()[1:]:
            fields = line.split()
            if fields[3] == TCP_LISTEN and fields[9] in inodes:
                address, port = fields[1].split(":")
                listening.add((_address(address), int(port, 16)))
    return listening


def assert_listens_on_loopback_only(name: str, pid: int) -> None:
    """Process ``pid`` (called ``name`` in the message) listens, and only on loopback addresses."""
    listening = listening_addresses(pid)
    assert listening, f"{name} listens on nothing"
    assert {address for address, _port in listening} <= LOOPBACK_ADDRESSES, (name, listening)
