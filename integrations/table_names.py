"""Every table the hub keeps, named once (each is `<HUB_TABLE_PREFIX><name>` in the account)."""

from __future__ import annotations

from enum import StrEnum


class TableName(StrEnum):
    apikeys = "apikeys"
    apiusage = "apiusage"  # the tenants' own API calls, per client
    assertionjti = "assertionjti"  # client-assertion ids already seen (replay protection)
    audit = "audit"
    broadcasts = "broadcasts"  # streaming: the reusable live stream and the broadcasts made per key
    socialposts = "socialposts"  # posts published per key, per social-media integration
    deadletters = "deadletters"
    due = "due"  # schedule slots waiting to run
    eventdeliveries = "eventdeliveries"  # the log of events sent to tenants' endpoints
    eventendpoints = "eventendpoints"  # tenants' event endpoints
    importerrors = "importerrors"  # an import's rejected cells, one row each (its error report)
    imports = "imports"  # file imports and their progress
    integrations = "integrations"
    integrationindex = "integrationindex"  # integration id → tenant (webhook URLs name only the integration)
    leases = "leases"
    mapbudgets = "mapbudgets"  # the mapping family's monthly budget, reserved in blocks
    members = "members"  # the member-sync mirror
    oauthstates = "oauthstates"
    outboundcalls = "outboundcalls"  # provider calls run off the request path, with their results
    outbox = "outbox"
    payments = "payments"
    quotaalerts = "quotaalerts"
    ratebuckets = "ratebuckets"  # the API's token buckets
    ratewindows = "ratewindows"  # the providers' windows
    rotations = "rotations"
    schedules = "schedules"
    secrets = "secrets"  # the local secret store
    signingkeys = "signingkeys"
    subscriptions = "subscriptions"  # change subscriptions the hub registered at providers (calendar watches)
    syncruns = "syncruns"
    syncstate = "syncstate"
    tenantsettings = "tenantsettings"
    tenantplans = "tenantplans"  # each tenant's API plan, as the operator set it
    usage = "usage"  # outbound provider calls
    webhookdeliveries = "webhookdeliveries"  # inbound provider deliveries, raw, until processed (and after)
