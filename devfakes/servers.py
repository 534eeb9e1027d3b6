"""Loopback servers for the fakes (tests, benches and `./hub run`), and the egress exception that lets the hub
reach exactly them."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(app: Any, **ssl_options: Any) -> Iterator[str]:
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
        http="h11",  # see tools/run.py: malformed requests reach the app's edge
        **ssl_options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.01)
    try:
        yield f"{'https' if ssl_options else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def loopback(*bases: str) -> Any:
    """An egress policy letting exactly these loopback servers through (the operator exception the fakes use)."""
    from urllib.parse import urlsplit

    from shared.egress import EgressPolicy

    return EgressPolicy.from_origins([f"{urlsplit(b).hostname}:{urlsplit(b).port}" for b in bases], https_only=False)


def post_to_hub(url: str, hub_urls: dict[str, str], record: Any, **kwargs: Any) -> Any:
    """A provider's call to the hub's public URL (a notification, a verification challenge): the public prefix
    mapped to the hub's loopback address, the hub's status (0 when it did not answer) passed to `record`."""
    import requests

    for public, local in hub_urls.items():
        if url.startswith(public):
            url = local + url[len(public) :]
    try:
        response = requests.post(url, timeout=10, **kwargs)
    except requests.RequestException:  # the receiver is down: the provider drops it or retries later
        record(0)
        raise
    record(response.status_code)
    return response
