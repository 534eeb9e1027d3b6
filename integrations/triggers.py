"""Timer and queue functions (Functions v2 blueprint). Each is a thin shell over a use case."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import azure.functions as func

from shared.queues import MAX_DEQUEUE_COUNT

blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions declares no types here
log = logging.getLogger("hub.triggers")

# Queue names are app settings (%…%) so tests and environments can prefix them.
WEBHOOK_EVENTS_QUEUE = "%HUB_QUEUE_WEBHOOK_EVENTS%"
SYNC_JOBS_QUEUE = "%HUB_QUEUE_SYNC_JOBS%"
ALERT_WEBHOOKS_QUEUE = "%HUB_QUEUE_ALERT_WEBHOOKS%"
WEBHOOK_DELIVERIES_QUEUE = "%HUB_QUEUE_WEBHOOK_DELIVERIES%"
EVENT_FANOUT_QUEUE = "%HUB_QUEUE_EVENT_FANOUT%"
EVENT_DELIVERIES_QUEUE = "%HUB_QUEUE_EVENT_DELIVERIES%"
OUTBOUND_CALLS_QUEUE = "%HUB_QUEUE_OUTBOUND_CALLS%"


Function = Callable[..., None]


def queue_function(name: str, queue: str) -> Callable[[Function], Function]:
    """Register a function the host runs for each message on `queue` (an app setting) of the hub's storage."""

    def register(fn: Function) -> Function:
        trigger = blueprint.queue_trigger(arg_name="message", queue_name=queue, connection="AzureWebJobsStorage")
        return blueprint.function_name(name)(trigger(fn))  # type: ignore[no-any-return]

    return register


def timer_function(name: str, schedule: str) -> Callable[[Function], Function]:
    """Register a function the host runs on `schedule` (an NCRONTAB app setting), one instance at a time."""

    def register(fn: Function) -> Function:
        trigger = blueprint.timer_trigger(arg_name="timer", schedule=schedule, run_on_startup=False, use_monitor=True)
        return blueprint.function_name(name)(trigger(fn))  # type: ignore[no-any-return]

    return register


def recorded(kind: str, message: func.QueueMessage, handle: Callable[[], object]) -> None:
    """Run a queue function's body; a failure is recorded as a dead-letter attempt (the host's poison queue
    keeps only the body) and re-raised, so the host retries it as before."""
    try:
        handle()
    except Exception as exc:
        from integrations.wiring import get_hub

        dequeue_count = message.dequeue_count or 1
        try:
            body = json.loads(message.get_body())
            body = body if isinstance(body, dict) else {"body": body}
        except ValueError:
            body = {"body": message.get_body().decode("utf-8", "replace")}
        try:
            get_hub().dead_letters.failed(
                kind=kind,
                message_id=message.id or "unknown",
                message=body,
                dequeue_count=dequeue_count,
                error=exc,
                final=dequeue_count >= MAX_DEQUEUE_COUNT,
            )
        except Exception:  # the storage that failed the job may fail this too: the host still retries
            log.exception("could not record the failure of %s message %s", kind, message.id)
        raise


@timer_function("timer_due_syncs", "%HUB_DUE_SYNCS_SCHEDULE%")
def timer_due_syncs(timer: func.TimerRequest) -> None:
    from integrations.minute_timer import enqueue_due_syncs
    from integrations.wiring import get_hub

    hub = get_hub()
    count = enqueue_due_syncs(hub=hub)
    log.info("due syncs enqueued: %d (past_due=%s)", count, timer.past_due)


@timer_function("timer_key_rotation", "%HUB_KEY_ROTATION_SCHEDULE%")
def timer_key_rotation(timer: func.TimerRequest) -> None:
    from datetime import timedelta

    from integrations.auth.rotation import rotate_due_api_keys, rotate_signing_key_if_due
    from integrations.wiring import get_hub

    hub = get_hub()
    period = timedelta(days=hub.settings.signing_key_rotation_days)
    kid = rotate_signing_key_if_due(hub.signing_keys, hub.leases, period=period)
    successors = rotate_due_api_keys(hub.api_keys, hub.secret_store, hub.leases, hub.event_sender.publish)
    log.info("key rotation: signing key %s, %d API keys (past_due=%s)", kid or "not due", len(successors), timer.past_due)


@timer_function("timer_subscriptions", "%HUB_SUBSCRIPTIONS_SCHEDULE%")
def timer_subscriptions(timer: func.TimerRequest) -> None:
    # Its own timer, not the minute one: renewals call providers, and a slow one must delay no sync.
    from integrations.wiring import get_hub

    count = get_hub().subscriptions.renew_due()
    log.info("change subscriptions renewed or retried: %d (past_due=%s)", count, timer.past_due)


@queue_function("queue_sync_jobs", SYNC_JOBS_QUEUE)
def queue_sync_jobs(message: func.QueueMessage) -> None:
    from integrations.sync.jobs import run_job_message
    from integrations.wiring import get_hub

    recorded(
        "sync_jobs",
        message,
        lambda: run_job_message(message.get_body(), dequeue_count=message.dequeue_count or 1, ctx=get_hub().run_context),
    )


@queue_function("queue_webhook_events", WEBHOOK_EVENTS_QUEUE)
def queue_webhook_events(message: func.QueueMessage) -> None:
    # A malformed message raises: it is retried, then kept in the poison queue (never dropped).
    from integrations.sync.webhook_events import WebhookEvent, process_webhook_event
    from integrations.wiring import get_hub

    recorded(
        "webhook_events",
        message,
        lambda: process_webhook_event(
            get_hub().run_context, get_hub().payments, WebhookEvent.model_validate_json(message.get_body())
        ),
    )


@queue_function("queue_alert_webhooks", ALERT_WEBHOOKS_QUEUE)
def queue_alert_webhooks(message: func.QueueMessage) -> None:
    # Tenant webhooks are posted here, off the minute timer, so a slow receiver delays nobody's syncs.
    from integrations.wiring import get_hub

    recorded("alert_webhooks", message, lambda: get_hub().quota_alerts.post_webhook(json.loads(message.get_body())))


@queue_function("queue_webhook_deliveries", WEBHOOK_DELIVERIES_QUEUE)
def queue_webhook_deliveries(message: func.QueueMessage) -> None:
    # Not `recorded`: the delivery row is its own dead letter (attempts, last error, `failed` after the last).
    from integrations.wiring import get_hub

    get_hub().delivery_processing.process(message.get_body(), dequeue_count=message.dequeue_count or 1)


@queue_function("queue_event_fanout", EVENT_FANOUT_QUEUE)
def queue_event_fanout(message: func.QueueMessage) -> None:
    from integrations.wiring import get_hub

    recorded("event_fanout", message, lambda: get_hub().event_sender.fan_out(json.loads(message.get_body())))


@queue_function("queue_event_deliveries", EVENT_DELIVERIES_QUEUE)
def queue_event_deliveries(message: func.QueueMessage) -> None:
    # A failing endpoint does not fail the message: the sender re-queues it on its own schedule (hours apart).
    from integrations.wiring import get_hub

    recorded("event_deliveries", message, lambda: get_hub().event_sender.deliver(json.loads(message.get_body())))


@queue_function("queue_outbound_calls", OUTBOUND_CALLS_QUEUE)
def queue_outbound_calls(message: func.QueueMessage) -> None:
    # Not `recorded`: the call's row is its own dead letter (attempts, last error, `failed` after the last).
    from integrations.wiring import get_hub

    outcome = get_hub().call_runner.process(message.get_body(), dequeue_count=message.dequeue_count or 1)
    log.info("outbound call %s: %s", message.id, outcome)
