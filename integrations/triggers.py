"""Timer and queue functions (Functions v2 blueprint). Each is a thin shell over a use case."""

from __future__ import annotations

import logging

import azure.functions as func

blueprint = func.Blueprint()
log = logging.getLogger("hub.triggers")

# Queue names are app settings (%…%) so tests and environments can prefix them.
WEBHOOK_EVENTS_QUEUE = "%HUB_QUEUE_WEBHOOK_EVENTS%"
SYNC_JOBS_QUEUE = "%HUB_QUEUE_SYNC_JOBS%"
ALERT_WEBHOOKS_QUEUE = "%HUB_QUEUE_ALERT_WEBHOOKS%"


@blueprint.function_name("timer_due_syncs")
@blueprint.timer_trigger(arg_name="timer", schedule="0 * * * * *", run_on_startup=False, use_monitor=True)
def timer_due_syncs(timer: func.TimerRequest) -> None:
    from integrations.sync.scheduler import enqueue_due_syncs
    from integrations.wiring import get_hub

    hub = get_hub()
    count = enqueue_due_syncs(hub=hub)
    log.info("due syncs enqueued: %d (past_due=%s)", count, timer.past_due)


@blueprint.function_name("queue_sync_jobs")
@blueprint.queue_trigger(arg_name="message", queue_name=SYNC_JOBS_QUEUE, connection="AzureWebJobsStorage")
def queue_sync_jobs(message: func.QueueMessage) -> None:
    from integrations.sync.jobs import run_job_message
    from integrations.wiring import get_hub

    run_job_message(message.get_body(), dequeue_count=message.dequeue_count or 1, hub=get_hub())


@blueprint.function_name("queue_webhook_events")
@blueprint.queue_trigger(arg_name="message", queue_name=WEBHOOK_EVENTS_QUEUE, connection="AzureWebJobsStorage")
def queue_webhook_events(message: func.QueueMessage) -> None:
    # A malformed message raises: it is retried, then kept in the poison queue (never dropped).
    from integrations.sync.webhook_events import WebhookEvent, process_webhook_event
    from integrations.wiring import get_hub

    process_webhook_event(get_hub(), WebhookEvent.model_validate_json(message.get_body()))


@blueprint.function_name("queue_alert_webhooks")
@blueprint.queue_trigger(arg_name="message", queue_name=ALERT_WEBHOOKS_QUEUE, connection="AzureWebJobsStorage")
def queue_alert_webhooks(message: func.QueueMessage) -> None:
    # Tenant webhooks are posted here, off the minute timer, so a slow receiver delays nobody's syncs.
    import json

    from integrations.usage.alerts import post_webhook
    from integrations.wiring import get_hub

    post_webhook(get_hub(), json.loads(message.get_body()))
