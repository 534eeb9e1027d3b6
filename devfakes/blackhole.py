"""A loopback TCP relay in front of a real service (Azurite) that can be made to hang — connections stay
open and nothing comes back, the way a storage outage looks from the client (no refusal, just silence) — or
to refuse, the way a stopped Azurite does (connections reset at once). Outage tests put it between the hub
and its storage; it fakes nothing of the storage itself."""

from __future__ import annotations

import socket
import threading
import time


class Blackhole:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.hanging = threading.Event()
        self.refusing = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def hang(self) -> None:
        self.hanging.set()

    def refuse(self) -> None:
        self.refusing.set()

    def resume(self) -> None:
        self.hanging.clear()
        self.refusing.clear()

    def stop(self) -> None:
        self._stop.set()
        self._server.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.refusing.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while not self._stop.is_set():
                data = src.recv(65536)
                if not data or self.refusing.is_set():
                    break
                while self.hanging.is_set() and not self._stop.is_set():
                    time.sleep(0.05)  # hold the bytes: the other side waits for an answer that never comes
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
