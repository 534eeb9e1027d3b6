"""Where `./hub run` keeps its local state, and who owns the local Azurite.

One clone, one Azurite data folder, at most one Azurite on it: the hub that starts Azurite holds an
exclusive `flock` on `.azurite/data.lock` for as long as it lives (the kernel drops it when the process dies,
even by SIGKILL, and Azurite dies with it through PR_SET_PDEATHSIG) and writes the connection string
beside it. A second `./hub run` in the same clone finds the lock held and attaches to that storage instead
of starting another Azurite on the same files.

Every running hub writes its own `.hub/runtime-<port>.json` (API address, storage, pid) and removes only
its own, so the operator CLI finds a live hub's storage whichever hubs come and go.

`HUB_STATE_DIR` moves all of this elsewhere (the tests run hubs in a temporary folder).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
DEV_STORAGE = "UseDevelopmentStorage=true"


def state_dir() -> Path:
    return Path(os.environ.get("HUB_STATE_DIR") or ROOT)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class StorageOwnership:
    """The exclusive claim on the data folder, held open for the life of the hub that started Azurite."""

    lock: IO[str]
    endpoint: Path

    def publish(self, connection_string: str) -> None:
        tmp = self.endpoint.with_suffix(".tmp")
        tmp.write_text(json.dumps({"AzureWebJobsStorage": connection_string, "pid": os.getpid()}))
        tmp.replace(self.endpoint)

    def release(self) -> None:
        self.endpoint.unlink(missing_ok=True)
        self.lock.close()  # closing the descriptor drops the flock


class LocalState:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or state_dir()
        self.azurite_dir = self.root / ".azurite"
        self.data_dir = self.azurite_dir / "data"
        self.runtime_dir = self.root / ".hub"

    # -- the data folder ---------------------------------------------------------------------------------

    def claim_storage(self) -> StorageOwnership | None:
        """The data folder for this hub to start Azurite on, or None when another live hub already runs it."""
        self.azurite_dir.mkdir(parents=True, exist_ok=True)
        lock = open(self.azurite_dir / "data.lock", "a+")  # noqa: SIM115 - held for the life of the process
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            return None
        return StorageOwnership(lock, self.azurite_dir / "endpoint.json")

    def running_storage(self, timeout_s: float = 60.0) -> str:
        """The connection string of the Azurite another hub owns (it may still be starting it)."""
        endpoint = self.azurite_dir / "endpoint.json"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                found = json.loads(endpoint.read_text())
                if _alive(int(found["pid"])):
                    return str(found["AzureWebJobsStorage"])
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"another hub holds {self.azurite_dir / 'data.lock'} but published no storage")

    # -- runtime files ---------------------------------------------------------------------------------------

    def runtime_file(self, port: int) -> Path:
        return self.runtime_dir / f"runtime-{port}.json"

    def write_runtime(self, port: int, values: dict[str, Any]) -> Path:
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        path = self.runtime_file(port)
        path.write_text(json.dumps({**values, "pid": os.getpid()}, indent=2))
        return path

    def live_runtimes(self) -> list[dict[str, Any]]:
        """Runtime files of hubs still running, newest first (a killed hub's file is skipped, not trusted)."""
        found: list[tuple[float, dict[str, Any]]] = []
        for path in self.runtime_dir.glob("runtime-*.json"):
            try:
                values = json.loads(path.read_text())
                if _alive(int(values["pid"])):
                    found.append((path.stat().st_mtime, values))
            except (OSError, ValueError, KeyError):
                continue
        return [values for _, values in sorted(found, key=lambda f: f[0], reverse=True)]

    def storage_for_tools(self) -> str | None:
        """The storage a CLI command on this machine should use: that of a live hub."""
        for runtime in self.live_runtimes():
            return str(runtime["AzureWebJobsStorage"])
        return None
