"""A TCP listener that accepts connections and never says a word (no SSH banner).

Run by the lab as its own process: `python -m tests.lab.tarpit ADDRESS PORT`.
"""

from __future__ import annotations

import socket
import sys


def serve(address: str, port: int) -> None:
    held: list[socket.socket] = []  # keep accepted sockets open: the client waits, forever
    with socket.create_server((address, port), backlog=128) as server:
        while True:
            conn, _ = server.accept()
            held.append(conn)
            held = [s for s in held if s.fileno() != -1][-1000:]


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
