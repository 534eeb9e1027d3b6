"""The local runner honours host.json's queue contract: failures come back, then land in `<queue>-poison`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import function_app
from integrations.wiring import Hub
from tools.runner import LocalRunner, QueueSettings


def test_failing_message_goes_to_poison_after_max_dequeue(hub: Hub) -> None:
    settings = QueueSettings(batch_size=4, visibility_timeout_s=0, max_dequeue_count=3, max_polling_interval_s=0.1)
    runner = LocalRunner(function_app.app, queue_settings=settings)
    worker = runner.queues["queue_sync_jobs"]
    hub.queues.send(
        hub.settings.queue_sync_jobs,
        {
            "tenant_id": "fed",
            "integration_id": "int_" + "0" * 24,
            "run_id": "0000000000000-00000000",
            "operation": "push_invoices",
        },
    )
    worker.drain(timeout=30)
    poisoned = [json.loads(m.content) for m in worker.poison.peek_messages(max_messages=5)]
    assert len(poisoned) == 1 and poisoned[0]["run_id"] == "0000000000000-00000000"
    assert worker.queue.get_queue_properties().approximate_message_count == 0


def test_host_json_settings_are_what_the_runner_reads() -> None:
    settings = QueueSettings.from_host_json()
    assert (settings.batch_size, settings.visibility_timeout_s, settings.max_dequeue_count) == (8, 30.0, 5)


def test_timer_schedule_is_ncrontab_every_minute(hub: Hub) -> None:
    from datetime import UTC, datetime

    timer = LocalRunner(function_app.app).timers["timer_due_syncs"]
    assert timer.next_after(datetime(2026, 11, 25, 2, 0, 30, tzinfo=UTC)) == datetime(2026, 11, 25, 2, 1, tzinfo=UTC)


def test_hub_run_serves_and_cleans_up_on_sigterm(tmp_path: Path) -> None:
    """`./hub run`'s process: it serves the API, and a SIGTERM (a service manager, `kill`) stops it *and* the
    Azurite it started (uvicorn re-raises the signal; without our handler the clean-up never ran)."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    import requests

    from tests.helpers import free_port

    root = Path(__file__).resolve().parents[1]
    port = free_port()
    env = {**os.environ, "HUB_TABLE_PREFIX": "sigterm", "HUB_STATE_DIR": str(tmp_path)}
    env.pop("AzureWebJobsStorage", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tools.run", "--port", str(port), "--no-fakes"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.5)
        else:
            raise AssertionError("the hub did not come up")
        runtime = json.loads((tmp_path / ".hub" / f"runtime-{port}.json").read_text())
        table_port = int(runtime["AzureWebJobsStorage"].split("TableEndpoint=http://127.0.0.1:")[1].split("/")[0])
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not (tmp_path / ".hub" / f"runtime-{port}.json").exists()
        assert not (tmp_path / ".azurite" / "endpoint.json").exists()
        import socket

        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", table_port)) != 0, "Azurite is still listening"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_azurite_dies_with_a_hub_killed_by_sigkill() -> None:
    """A `kill -9` of the process that started Azurite leaves no orphan holding the data folder."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    code = "from tools import azurite; s = azurite.start(in_memory=True); print(s.process.pid, flush=True); input()"
    hub = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stdin=subprocess.PIPE, cwd=Path(__file__).parents[1]
    )
    assert hub.stdout is not None
    child = int(hub.stdout.readline())
    os.kill(hub.pid, signal.SIGKILL)
    hub.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(child, signal.SIGKILL)
    raise AssertionError("Azurite outlived the hub that started it")


def test_azurite_takes_other_ports_when_one_it_chose_was_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ports are chosen free and bound by Azurite a moment later; a parallel test can take one in between (a
    fresh-clone run failed so once): Azurite's EADDRINUSE exit is a retry on other ports, not a failure."""
    import socket

    from tools import azurite

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        chosen = iter([int(taken.getsockname()[1])])
        real = azurite.free_port
        monkeypatch.setattr(azurite, "free_port", lambda: next(chosen, None) or real())
        with azurite.start(in_memory=True) as store:
            assert f":{taken.getsockname()[1]}/" not in store.connection_string


def test_the_public_base_url_follows_the_port_unless_set() -> None:
    """`./hub run --port 7391` must send OAuth consent back to 7391: the sample settings' loopback default used
    to win over the port (the README's calendar walkthrough failed on any other port)."""
    from tools.run import LOOPBACK_DEFAULT, public_base_url

    assert public_base_url(7391, None, LOOPBACK_DEFAULT) == "http://127.0.0.1:7391"
    assert public_base_url(7391, None, None) == "http://127.0.0.1:7391"
    assert public_base_url(7391, None, "https://hub.example.se") == "https://hub.example.se"  # a real deployment's
    assert public_base_url(7391, "https://tunnel.example.net", LOOPBACK_DEFAULT) == "https://tunnel.example.net"
