"""Start and stop a private Azurite (tables, queues, blobs) on free loopback ports.

Used by `./hub run`, `./hub test` and the test fixtures. We start `node …/azurite.js` ourselves (not
through npx) so that the process we kill is the one holding the ports.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AZURITE_JS = ROOT / "node_modules" / "azurite" / "dist" / "src" / "azurite.js"
# The well-known development account every Azure storage emulator accepts.
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def connection_string(*, blob: int, queue: int, table: int) -> str:
    host = "http://127.0.0.1"
    return (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
        f"BlobEndpoint={host}:{blob}/{DEV_ACCOUNT};QueueEndpoint={host}:{queue}/{DEV_ACCOUNT};"
        f"TableEndpoint={host}:{table}/{DEV_ACCOUNT};"
    )


@dataclass
class Azurite:
    process: subprocess.Popen[bytes]
    data_dir: Path
    connection_string: str
    owns_data: bool

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.owns_data:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> Azurite:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _die_with_parent() -> None:
    """In the child before exec: Linux sends it SIGTERM when the process that started it dies, even by
    SIGKILL, so a killed hub never leaves an orphaned Azurite holding the data folder (elsewhere: no-op)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


START_ATTEMPTS = 3


class ExitedEarly(RuntimeError):
    """Azurite stopped before listening; `port_taken` when one of its ports was bound by someone else first."""

    def __init__(self, code: int | None, stderr: str) -> None:
        super().__init__(f"Azurite exited early with code {code}: {stderr.strip()[-500:]}")
        self.port_taken = "EADDRINUSE" in stderr


def _wait_for(port: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
            raise ExitedEarly(proc.returncode, stderr)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"Azurite did not answer on port {port} within {timeout}s")


def start(*, data_dir: Path | None = None, in_memory: bool = False, timeout: float = 30.0) -> Azurite:
    """Start Azurite on three free ports; `data_dir=None` uses a temporary folder removed on stop."""
    if not AZURITE_JS.exists():
        raise RuntimeError("Azurite is not installed: run `npm ci` (./hub does it for you)")
    owns = data_dir is None
    if data_dir is None:
        (ROOT / ".azurite").mkdir(exist_ok=True)
        data_dir = Path(tempfile.mkdtemp(prefix="run-", dir=ROOT / ".azurite"))
    data_dir.mkdir(parents=True, exist_ok=True)
    # A port is free when chosen and bound by Azurite a moment later; a parallel test or process can take it in
    # between (EADDRINUSE). That is worth another three ports, not a failed run.
    for _ in range(START_ATTEMPTS - 1):
        try:
            return _start_on_free_ports(data_dir, in_memory=in_memory, owns=owns, timeout=timeout)
        except ExitedEarly as exc:
            if not exc.port_taken:
                raise
    return _start_on_free_ports(data_dir, in_memory=in_memory, owns=owns, timeout=timeout)


def _start_on_free_ports(data_dir: Path, *, in_memory: bool, owns: bool, timeout: float) -> Azurite:
    ports = {"blob": free_port(), "queue": free_port(), "table": free_port()}
    args = [
        shutil.which("node") or "node",
        str(AZURITE_JS),
        "--silent",
        "--skipApiVersionCheck",
        "--disableProductStyleUrl",
        "--disableTelemetry",  # Azurite 3.35 reports usage to Microsoft unless told not to
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(ports["blob"]),
        "--queueHost",
        "127.0.0.1",
        "--queuePort",
        str(ports["queue"]),
        "--tableHost",
        "127.0.0.1",
        "--tablePort",
        str(ports["table"]),
    ]
    # In-memory mode (tests) may not be combined with --location.
    args += ["--inMemoryPersistence"] if in_memory else ["--location", str(data_dir)]
    proc = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ}, preexec_fn=_die_with_parent
    )
    try:
        for port in ports.values():
            _wait_for(port, proc, timeout)
    except Exception:
        proc.kill()
        raise
    return Azurite(proc, data_dir, connection_string(**ports), owns)
