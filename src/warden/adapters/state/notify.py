"""Cross-process wake-ups for the SQLite state store (Linux abstract UNIX datagram sockets).

A waiting process binds an abstract socket and drops an empty marker file named after it in
``$WARDEN_HOME/notify/``; a process that changed the state sends one byte to every marker's
socket after its commit. Waiters therefore answer within milliseconds of an approval or a
kill, and re-read the store at least every 0.5 s in case a wake-up was lost (a crashed
notifier), so correctness never depends on the notification.
"""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path


class Notifier:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self._sock: socket.socket | None = None
        self._name = ""

    def _address(self, name: str) -> str:
        return "\0warden-state-" + name

    def listen(self) -> None:
        if self._sock is not None:
            return
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        name = f"{os.getpid()}-{secrets.token_hex(4)}"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(self._address(name))
        (self.dir / name).touch(mode=0o600)
        self._sock, self._name = sock, name

    def wait(self, timeout: float) -> None:
        self.listen()
        assert self._sock is not None
        self._sock.settimeout(max(timeout, 0.001))
        try:
            self._sock.recv(16)
            self._sock.setblocking(False)
            try:  # drain wake-ups that piled up meanwhile
                while self._sock.recv(16):
                    pass
            except OSError:
                pass
        except (TimeoutError, OSError):
            pass

    def notify(self) -> None:
        try:
            names = os.listdir(self.dir)
        except OSError:
            return
        sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sender.setblocking(False)
            for name in names:
                try:
                    sender.sendto(b"!", self._address(name))
                except ConnectionRefusedError:  # its process is gone: drop the stale marker
                    try:
                        os.unlink(self.dir / name)
                    except OSError:
                        pass
                except OSError:
                    pass
        finally:
            sender.close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            try:
                os.unlink(self.dir / self._name)
            except OSError:
                pass
            self._sock = None
