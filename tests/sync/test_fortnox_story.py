"""Seed 000's story end to end: draft → OAuth → mapping → validate → active → the nightly run pushes
142 invoices; usage says 142 requests, 0 errors and the quota burn. Then the same under a killed worker,
429s and 503s, and a schedule missed during an outage."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from datetime import timedelta

import function_app
from devfakes.launcher import Fakes
from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub, build_hub, set_hub
from shared.settings import Settings
from tests.helpers import FAST_QUEUES, ApiClient, active_fortnox, invoices
from tools.runner import LocalRunner


def test_the_fortnox_story(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    doc_id = active_fortnox(admin, fakes)
    path = f"{admin.integrations}/{doc_id}"
    r = admin.request(
        "PUT", f"{path}/syncs/schedules/push_invoices", json={"cron": "0 0 2 * * *", "time_zone": "Europe/Stockholm"}
    )
    assert r.status_code == 200, r.text
    # Night falls: make the schedule due, then let the registered timer and queue functions do their work.
    hub.now = lambda: __import__("datetime").datetime.now(__import__("datetime").UTC) + timedelta(days=1)
    runner = LocalRunner(function_app.app, queue_settings=FAST_QUEUES)
    runner.timers["timer_due_syncs"].fire()
    runner.queues["queue_sync_jobs"].drain(timeout=120)

    fake = fakes.fortnox
    assert len(fake.invoices) == 142 and fake.duplicates() == 0 and fake.throttled == 0
    rows = {tuple(sorted(r["AccountNumber"] for r in i["InvoiceRows"])) for i in fake.invoices}
    assert rows == {(3010,), (3020,)}
    run = admin.get(f"{path}/syncs", params={"limit": 1}).json()["items"][0]
    assert run["status"] == "succeeded" and run["trigger"] == "schedule"
    assert run["created"] == 142 and run["failed"] == 0 and run["provider_calls"] == 142

    day = hub.now().date().isoformat()
    usage = admin.get(f"{path}/usage", params={"from": (hub.now().date() - timedelta(days=2)).isoformat(), "to": day}).json()
    push = usage["by_operation"]["sync.push_invoice"]
    assert push["requests"] == 142 and push["errors"] == 0
    # One definition of quota burn: units over the quota of the days the row covers (3 here, one of them busy).
    assert push["quota_burn_pct"] == round(100 * 142 / (fake.daily_quota * 3), 3)
    assert usage["totals"]["quota_burn_pct"] == round(100 * usage["totals"]["units"] / (fake.daily_quota * 3), 3)
    for d in usage["days"]:  # a day's row: that day's quota
        assert d["quota_burn_pct"] == round(100 * d["units"] / fake.daily_quota, 3)
    assert usage["daily_quota_source"] == "HUB_PROVIDER_DAILY_QUOTAS"  # where this one came from, by name
    # the run let go of its (renewed) lease: the next run may start at once
    assert hub.leases.try_acquire(f"sync-{admin.tenant}-{doc_id}", ttl_s=1) is not None
    events = hub.queues.peek_all(hub.settings.queue_integration_events)
    assert events[-1]["type"] == "dev.integration-hub.sync.succeeded" and events[-1]["data"]["created"] == 142
    status = admin.get(f"{path}/status").json()
    assert status["token_state"] == "connected" and status["outbox"]["synced"] == 142
    assert status["last_sync"]["id"] == run["id"] and status["schedules"][0]["operation"] == "push_invoices"


def _worker(settings_json: str, env: dict[str, str]) -> None:
    os.environ.update(env)
    set_hub(build_hub(Settings.model_validate_json(settings_json)))
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"].drain(timeout=300)


def test_killed_worker_resumes_without_duplicates(admin: ApiClient, fakes: Fakes, hub: Hub, settings: Settings) -> None:
    doc_id = active_fortnox(admin, fakes)
    run = admin.post(f"{admin.integrations}/{doc_id}/syncs", json={"operation": "push_invoices"}).json()
    env = {k: os.environ[k] for k in ("AzureWebJobsStorage", "HUB_QUEUE_SYNC_JOBS", "HUB_QUEUE_INTEGRATION_EVENTS")}
    proc = multiprocessing.get_context("spawn").Process(target=_worker, args=(settings.model_dump_json(), env))
    proc.start()
    deadline = time.monotonic() + 120
    while len(fakes.fortnox.invoices) < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)  # a real process death, mid-run
    proc.join()
    partial = len(fakes.fortnox.invoices)
    assert 40 <= partial < 142
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"].drain(timeout=120)
    assert len(fakes.fortnox.invoices) == 142 and fakes.fortnox.duplicates() == 0
    final = admin.get(f"{admin.integrations}/{doc_id}/syncs/{run['id']}").json()
    assert final["status"] == "succeeded" and final["attempts"] == 2
    # The run record keeps what the killed attempt did (checkpointed per batch): every invoice is counted once,
    # as created or, for the batch in flight at the kill, as found at the provider.
    assert final["created"] + final["skipped"] == 142 and final["created"] >= partial - 25, final
    # Usage was written per call in the job: at most the call in flight at the kill is missing.
    usage = admin.get(f"{admin.integrations}/{doc_id}/usage").json()
    assert fakes.fortnox.api_calls - usage["totals"]["requests"] <= 1, (fakes.fortnox.api_calls, usage["totals"])


def test_429s_and_503s_lose_nothing(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    doc_id = active_fortnox(admin, fakes)
    fakes.fortnox.fail_next(3, 429, {"Retry-After": "1"})
    fakes.fortnox.random_503_rate = 0.1
    hub.outbound._sleep = lambda s: time.sleep(min(s, 1.0))  # jittered backoff capped for the test's sake
    admin.post(f"{admin.integrations}/{doc_id}/syncs", json={"operation": "push_invoices"})
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"].drain(timeout=240)
    assert len(fakes.fortnox.invoices) == 142 and fakes.fortnox.duplicates() == 0
    run = admin.get(f"{admin.integrations}/{doc_id}/syncs", params={"limit": 1}).json()["items"][0]
    assert run["status"] == "succeeded" and run["created"] + run["skipped"] == 142
    usage = admin.get(f"{admin.integrations}/{doc_id}/usage").json()["by_operation"]["sync.push_invoice"]
    assert usage["throttled"] >= 3 and usage["errors_5xx"] >= 1


def test_missed_schedule_after_three_hour_outage_runs_once(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    from datetime import UTC, datetime

    doc_id = active_fortnox(admin, fakes)
    hub.schedules.put(IntegrationRef(admin.tenant, doc_id), "push_invoices", cron="*/15 * * * *", time_zone="UTC")
    real = hub.now
    hub.now = lambda: datetime.now(UTC) + timedelta(hours=3)  # the hub was down for three hours
    try:
        runner = LocalRunner(function_app.app, queue_settings=FAST_QUEUES)
        runner.timers["timer_due_syncs"].fire(past_due=True)
        runner.timers["timer_due_syncs"].fire(past_due=True)
        jobs = hub.queues.peek_all(hub.settings.queue_sync_jobs)
        assert len(jobs) == 1
        nxt = hub.schedules.get(IntegrationRef(admin.tenant, doc_id), "push_invoices").next_run_at
        assert hub.now() < nxt <= hub.now() + timedelta(minutes=15)
    finally:
        hub.now = real


def test_paused_integration_is_not_synced(admin: ApiClient, fakes: Fakes, hub: Hub) -> None:
    doc_id = active_fortnox(admin, fakes)
    path = f"{admin.integrations}/{doc_id}"
    run = admin.post(f"{path}/syncs", json={"operation": "push_invoices"}).json()
    admin.post(f"{path}:pause")
    LocalRunner(function_app.app, queue_settings=FAST_QUEUES).queues["queue_sync_jobs"].drain(timeout=60)
    assert admin.get(f"{path}/syncs/{run['id']}").json()["status"] == "skipped"
    assert fakes.fortnox.invoices == []
    r = admin.post(f"{path}/syncs", json={"operation": "push_invoices"})
    assert r.status_code == 409
    r = admin.post(f"{path}/syncs", json={"operation": "pull_members"})
    assert r.status_code == 422
    bad = invoices(1)
    bad[0]["lines"][0]["category"] = "merchandise"
    r = admin.post(f"{path}/outbox/invoices", json={"invoices": bad})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/invoices/0/lines/0/category"
    assert json.dumps(r.json())
