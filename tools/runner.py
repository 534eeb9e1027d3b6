"""A local stand-in for the Functions host: runs the functions registered on `function_app.app`.

- HTTP: the ASGI app wrapped by the registered catch-all function, over uvicorn.
- Timers: each timer function on its NCRONTAB schedule (seconds first).
- Queues: each queue function polling Azurite with host.json's `extensions.queues` settings
  (batchSize, visibilityTimeout, maxDequeueCount → `<queue>-poison`), base64 message encoding like the host.

It calls the registered user functions themselves (`Function.get_user_function()`), never copies.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest
from azure.storage.queue import BinaryBase64DecodePolicy, BinaryBase64EncodePolicy, QueueClient
from croniter import croniter

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("hub.runner")


def load_settings_values(path: Path | None = None) -> dict[str, str]:
    """Values of local.settings.json (or the sample) into os.environ; existing variables win."""
    for candidate in [path] if path else [ROOT / "local.settings.json", ROOT / "local.settings.sample.json"]:
        if candidate and candidate.exists():
            values: dict[str, str] = json.loads(candidate.read_text()).get("Values", {})
            for key, value in values.items():
                os.environ.setdefault(key, str(value))
            return values
    return {}


def resolve(value: str) -> str:
    """Binding expressions `%Setting%` resolve to app settings, as the host does."""

    def setting(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise RuntimeError(f"app setting {name} (named by a binding) is not set: see local.settings.sample.json")
        return os.environ[name]

    return re.sub(r"%([^%]+)%", setting, value)


def _timespan(value: str) -> float:
    h, m, s = value.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


@dataclass(frozen=True)
class QueueSettings:
    batch_size: int = 16
    visibility_timeout_s: float = 0.0
    max_dequeue_count: int = 5
    max_polling_interval_s: float = 2.0

    @classmethod
    def from_host_json(cls, path: Path = ROOT / "host.json") -> QueueSettings:
        q = json.loads(path.read_text()).get("extensions", {}).get("queues", {})
        # The host lets an app setting override any host.json value: AzureFunctionsJobHost__extensions__queues__X.
        prefix = "AzureFunctionsJobHost__extensions__queues__"
        q = {**q, **{k[len(prefix) :]: v for k, v in os.environ.items() if k.startswith(prefix)}}
        return cls(
            batch_size=int(q.get("batchSize", 16)),
            visibility_timeout_s=_timespan(q.get("visibilityTimeout", "00:00:00")),
            max_dequeue_count=int(q.get("maxDequeueCount", 5)),
            max_polling_interval_s=min(_timespan(q.get("maxPollingInterval", "00:00:02")), 2.0),
        )


def queue_client(conn: str, name: str) -> QueueClient:
    client = QueueClient.from_connection_string(
        conn, name, message_encode_policy=BinaryBase64EncodePolicy(), message_decode_policy=BinaryBase64DecodePolicy()
    )
    try:
        client.create_queue()
    except ResourceExistsError:
        pass
    return client


class QueueWorker:
    def __init__(self, function: Any, settings: QueueSettings) -> None:
        binding = function.get_bindings_dict()["bindings"][0]
        self.name = function.get_function_name()
        self.queue_name = resolve(binding["queueName"])
        self.user_function = function.get_user_function()
        self.settings = settings
        conn = os.environ[binding.get("connection") or "AzureWebJobsStorage"]
        self.queue = queue_client(conn, self.queue_name)
        self.poison = queue_client(conn, f"{self.queue_name}-poison")

    @property
    def visibility_s(self) -> int:
        return max(1, int(self.settings.visibility_timeout_s)) if self.settings.visibility_timeout_s else 30

    def poll_once(self) -> int:
        """Receive one batch and run the function on its messages concurrently, as the host does; return how
        many were handled. While a function runs, its message's visibility is renewed (the host does this too),
        so a long run is never delivered to another instance while it is alive."""
        batch = list(
            self.queue.receive_messages(
                messages_per_page=self.settings.batch_size,
                visibility_timeout=self.visibility_s,
                max_messages=self.settings.batch_size,
            )
        )
        if not batch:
            return 0
        threads = [threading.Thread(target=self._handle, args=(m,), name=f"{self.name}-{m.id[:8]}") for m in batch]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return len(batch)

    def _handle(self, msg: Any) -> None:
        message = QueueMessage(  # type: ignore[no-untyped-call]  # azure-functions' constructor is untyped
            id=msg.id,
            body=msg.content,
            dequeue_count=msg.dequeue_count,
            pop_receipt=msg.pop_receipt,
            insertion_time=msg.inserted_on,
            expiration_time=msg.expires_on,
            time_next_visible=msg.next_visible_on,
        )
        with _Visible(self.queue, msg, self.visibility_s) as visible:
            try:
                self.user_function(message)
            except Exception:  # noqa: BLE001 - the host's contract: failure → retry, then poison
                log.exception("%s failed on message %s (attempt %d)", self.name, msg.id, msg.dequeue_count)
                visible.stop()
                if msg.dequeue_count >= self.settings.max_dequeue_count:
                    self.poison.send_message(msg.content)
                    self.queue.delete_message(msg.id, visible.pop_receipt)
                else:
                    again = int(self.settings.visibility_timeout_s)
                    self.queue.update_message(msg.id, visible.pop_receipt, visibility_timeout=again)
                return
            visible.stop()
            self.queue.delete_message(msg.id, visible.pop_receipt)

    def drain(self, *, timeout: float = 60.0) -> int:
        """Process until the queue is empty (messages still invisible are waited for up to `timeout`)."""
        total, deadline = 0, time.monotonic() + timeout
        while time.monotonic() < deadline:
            n = self.poll_once()
            total += n
            if n == 0:
                if self.queue.get_queue_properties().approximate_message_count == 0:
                    return total
                time.sleep(0.1)
        raise TimeoutError(f"{self.queue_name} not drained within {timeout}s")


class _Visible:
    """Keeps a received message invisible while its function runs: renews the visibility timeout at half its
    length on a background thread (each renewal gives a new pop receipt, which the final delete needs)."""

    def __init__(self, queue: QueueClient, msg: Any, visibility_s: int) -> None:
        self._queue, self._id, self._visibility_s = queue, msg.id, visibility_s
        self.pop_receipt: str = msg.pop_receipt
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, daemon=True, name=f"visible-{msg.id[:8]}")

    def __enter__(self) -> _Visible:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _renew(self) -> None:
        while not self._stop.wait(self._visibility_s / 2):
            try:
                updated = self._queue.update_message(self._id, self.pop_receipt, visibility_timeout=self._visibility_s)
                self.pop_receipt = (
                    updated.pop_receipt or self.pop_receipt
                )  # read by the handler only after stop() joined this thread
            except Exception:  # noqa: BLE001 - a blip: the next renewal (well within the timeout) tries again
                log.warning("renewing visibility of message %s failed", self._id, exc_info=True)


class TimerWorker:
    def __init__(self, function: Any) -> None:
        binding = function.get_bindings_dict()["bindings"][0]
        self.name = function.get_function_name()
        self.schedule = resolve(binding["schedule"])
        self.user_function = function.get_user_function()

    def next_after(self, moment: datetime) -> datetime:
        six = len(self.schedule.split()) == 6
        following: datetime = croniter(self.schedule, moment, second_at_beginning=six).get_next(datetime)
        return following

    def fire(self, *, past_due: bool = False) -> None:
        self.user_function(TimerRequest(past_due=past_due))


_INDEXED: dict[int, list[Any]] = {}


def indexed_functions(app: Any) -> list[Any]:
    """`app.get_functions()` once per app: indexing twice raises (the library remembers the names)."""
    if id(app) not in _INDEXED:
        _INDEXED[id(app)] = app.get_functions()
    return _INDEXED[id(app)]


class LocalRunner:
    """Indexes `function_app.app` and runs its non-HTTP functions in background threads."""

    def __init__(self, app: Any, *, queue_settings: QueueSettings | None = None) -> None:
        self.app = app
        self.functions = indexed_functions(app)
        settings = queue_settings or QueueSettings.from_host_json()
        self.queues = {
            f.get_function_name(): QueueWorker(f, settings)
            for f in self.functions
            if f.get_trigger().get_binding_name() == "queueTrigger"
        }
        self.timers = {
            f.get_function_name(): TimerWorker(f)
            for f in self.functions
            if f.get_trigger().get_binding_name() == "timerTrigger"
        }
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def asgi_app(self) -> Any:
        """The ASGI application behind the registered HTTP function."""
        return self.app.middleware._app

    def start_background(self) -> None:
        for worker in self.queues.values():
            self._threads.append(threading.Thread(target=self._poll_loop, args=(worker,), daemon=True, name=worker.name))
        for timer in self.timers.values():
            self._threads.append(threading.Thread(target=self._timer_loop, args=(timer,), daemon=True, name=timer.name))
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)

    def _poll_loop(self, worker: QueueWorker) -> None:
        idle = 0.1
        while not self._stop.is_set():
            try:
                idle = 0.1 if worker.poll_once() else min(idle * 2, worker.settings.max_polling_interval_s)
            except Exception:  # noqa: BLE001 - keep polling through storage hiccups
                log.exception("polling %s failed", worker.queue_name)
                idle = worker.settings.max_polling_interval_s
            self._stop.wait(idle)

    def _timer_loop(self, timer: TimerWorker) -> None:
        due = timer.next_after(datetime.now(UTC))
        while not self._stop.is_set():
            wait = (due - datetime.now(UTC)).total_seconds()
            if wait > 0 and self._stop.wait(min(wait, 1.0)):
                return
            if datetime.now(UTC) < due:
                continue
            late = datetime.now(UTC) - due > timedelta(seconds=30)
            try:
                timer.fire(past_due=late)
            except Exception:  # noqa: BLE001
                log.exception("timer %s failed", timer.name)
            due = timer.next_after(datetime.now(UTC))
