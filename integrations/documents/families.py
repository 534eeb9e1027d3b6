"""The typed integration families (seed 000's nine, plus CRM/LMS/messaging/data collection from seeds 002–004).

Each family is a `<Family>IntegrationCreate`: what a tenant admin writes (provider, capabilities, config,
credential refs). The stored document adds the envelope (see `document.py`).
"""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import AnyUrl, BeforeValidator, Field, StringConstraints, field_validator, model_validator

from integrations.documents.common import (
    CountryCode,
    CredentialRefs,
    Currency,
    ExternalId,
    Hostname,
    Slug,
    Strict,
    SyncDirection,
)

DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=120)]


class IntegrationCreateBase(Strict):
    display_name: DisplayName = Field(description="Name shown to tenant admins.", examples=["Fortnox (finance)"])
    sandbox: bool = Field(True, description="Talk to the provider's sandbox/test environment.")
    oauth_client_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None,
        description="OAuth2 client id (not a secret) of the tenant's app registration at the provider: required "
        "before validation for OAuth providers, whose client secret goes in `credentials.oauth_client_secret_ref`.",
    )
    credentials: CredentialRefs = Field(
        default_factory=CredentialRefs, description="Key Vault references for this integration's secrets."
    )


# --- Payment gateway ---------------------------------------------------------------------------------------------


class PaymentGatewayCapabilities(Strict):
    payments: bool = Field(True, description="Take payments (checkout, payment requests).")
    refunds: bool = Field(False, description="Issue refunds.")
    subscriptions: bool = Field(False, description="Recurring payments (license renewals).")
    payouts: bool = Field(False, description="Pay out to clubs/officials.")


class PaymentGatewayConfig(Strict):
    supported_currencies: list[Currency] = Field(
        min_length=1, max_length=50, description="ISO 4217 currencies accepted through this gateway."
    )
    default_currency: Currency = Field(description="Currency used when a payment names none; one of supported_currencies.")
    merchant_id: ExternalId | None = Field(
        None, description="Merchant/account id at the provider (Swish payee alias, PayPal merchant id)."
    )
    psp: Literal["mollie", "adyen"] | None = Field(
        None, description="iDEAL only: the payment service provider carrying iDEAL."
    )

    @model_validator(mode="after")
    def _default_in_supported(self) -> PaymentGatewayConfig:
        if self.default_currency not in self.supported_currencies:
            raise ValueError("default_currency must be one of supported_currencies")
        if len(set(self.supported_currencies)) != len(self.supported_currencies):
            raise ValueError("supported_currencies has duplicates")
        return self


# Currencies a provider can settle at all (providers.md): Swish is SEK only, iDEAL EUR only.
_PROVIDER_CURRENCIES = {"swish": {"SEK"}, "ideal": {"EUR"}}


class PaymentGatewayIntegrationCreate(IntegrationCreateBase):
    family: Literal["payment_gateway"] = Field(description="Integration family.")
    provider: Literal["stripe", "paypal", "swish", "ideal"] = Field(description="Payment provider.")
    capabilities: PaymentGatewayCapabilities = Field(
        default_factory=PaymentGatewayCapabilities, description="Capability flags: what the hub may do with this provider."
    )
    config: PaymentGatewayConfig = Field(description="Typed configuration of this family.")

    @model_validator(mode="after")
    def _provider_rules(self) -> PaymentGatewayIntegrationCreate:
        allowed = _PROVIDER_CURRENCIES.get(self.provider)
        if allowed and not set(self.config.supported_currencies) <= allowed:
            raise ValueError(f"{self.provider} supports only {', '.join(sorted(allowed))}")
        if self.provider == "ideal" and self.config.psp is None:
            raise ValueError("iDEAL needs config.psp (mollie or adyen)")
        return self


# --- Calendar ----------------------------------------------------------------------------------------------------


class CalendarCapabilities(Strict):
    push_events: bool = Field(True, description="Publish competitions/events to the calendar.")
    pull_events: bool = Field(False, description="Import events from the calendar.")


class CalendarConfig(Strict):
    sync_direction: SyncDirection = Field(SyncDirection.push, description="push, pull or bidirectional.")
    calendar_id: ExternalId | None = Field(None, description="Calendar id at the provider (Google/Outlook).")
    ics_url: AnyUrl | None = Field(None, description="iCal only: the feed URL (https).")
    event_type_filter: list[Slug] = Field(default_factory=list, description="Only these event types sync (empty = all).")


class CalendarIntegrationCreate(IntegrationCreateBase):
    family: Literal["calendar"] = Field(description="Integration family (discriminator).")
    provider: Literal["google_calendar", "outlook", "ical"] = Field(description="Provider this integration connects to.")
    capabilities: CalendarCapabilities = Field(
        default_factory=CalendarCapabilities, description="Capability flags: what the hub may do with this provider."
    )
    config: CalendarConfig = Field(default_factory=CalendarConfig, description="Typed configuration of this family.")

    @model_validator(mode="after")
    def _ical_needs_url(self) -> CalendarIntegrationCreate:
        if self.provider == "ical":
            if self.config.ics_url is None or self.config.ics_url.scheme != "https":
                raise ValueError("iCal needs config.ics_url with https")
            if self.config.sync_direction != SyncDirection.pull:
                raise ValueError("iCal feeds are read-only: sync_direction must be pull")
        return self


# --- Social media ------------------------------------------------------------------------------------------------


class SocialAccount(Strict):
    account_id: ExternalId = Field(description="Page/account id at the provider.")
    name: DisplayName = Field(description="Page or account name.")
    kind: Literal["page", "account"] = Field("page", description="A page (Facebook) or an account (Instagram, X).")
    access_token_ref: str | None = Field(None, description="Key Vault reference of this page's token.")

    @field_validator("access_token_ref")
    @classmethod
    def _ref(cls, v: str | None) -> str | None:
        from integrations.documents.common import parse_secret_ref

        if v is not None:
            parse_secret_ref(v)
        return v


class SocialMediaCapabilities(Strict):
    publish: bool = Field(True, description="Publish posts.")
    analytics: bool = Field(False, description="Read insights/analytics.")
    moderation: bool = Field(False, description="Moderate comments.")
    auto_publish_events: bool = Field(False, description="Publish new events automatically.")


class SocialMediaConfig(Strict):
    accounts: list[SocialAccount] = Field(default_factory=list, max_length=50, description="Managed pages/accounts.")


class SocialMediaIntegrationCreate(IntegrationCreateBase):
    family: Literal["social_media"] = Field(description="Integration family (discriminator).")
    provider: Literal["facebook", "instagram", "x"] = Field(description="Provider this integration connects to.")
    capabilities: SocialMediaCapabilities = Field(
        default_factory=SocialMediaCapabilities, description="Capability flags: what the hub may do with this provider."
    )
    config: SocialMediaConfig = Field(default_factory=SocialMediaConfig, description="Typed configuration of this family.")


# --- Streaming ---------------------------------------------------------------------------------------------------


class StreamingCapabilities(Strict):
    channel_management: bool = Field(True, description="Create/update broadcasts on the channel.")
    dvr: bool = Field(False, description="Viewers can rewind live streams.")
    chat: bool = Field(False, description="Live chat enabled.")
    auto_record: bool = Field(False, description="Record streams automatically.")


class StreamingConfig(Strict):
    channel_id: ExternalId | None = Field(None, description="Channel id at the provider.")
    rtmp_url: AnyUrl | None = Field(
        None, description="Ingest URL; rtmp:// or rtmps:// only.", examples=["rtmps://a.rtmp.youtube.com/live2"]
    )

    @field_validator("rtmp_url")
    @classmethod
    def _rtmp(cls, v: AnyUrl | None) -> AnyUrl | None:
        if v is not None and v.scheme not in ("rtmp", "rtmps"):
            raise ValueError("rtmp_url must use rtmp:// or rtmps://")
        return v


class StreamingIntegrationCreate(IntegrationCreateBase):
    family: Literal["streaming"] = Field(description="Integration family (discriminator).")
    provider: Literal["youtube", "twitch"] = Field(description="Provider this integration connects to.")
    capabilities: StreamingCapabilities = Field(
        default_factory=StreamingCapabilities, description="Capability flags: what the hub may do with this provider."
    )
    config: StreamingConfig = Field(default_factory=StreamingConfig, description="Typed configuration of this family.")


# --- Mapping -----------------------------------------------------------------------------------------------------


class MappingCapabilities(Strict):
    geocoding: bool = Field(True, description="Geocode venue addresses.")
    directions: bool = Field(False, description="Directions/routes to venues.")
    static_maps: bool = Field(False, description="Static map images.")
    places_search: bool = Field(False, description="Places search.")


class MappingConfig(Strict):
    domain_allowlist: list[Hostname] = Field(
        default_factory=list, max_length=100, description="Hostnames allowed to receive the browser key."
    )
    monthly_usage_budget: int | None = Field(None, ge=1, description="Requests per month before the hub stops calling.")


class MappingIntegrationCreate(IntegrationCreateBase):
    family: Literal["mapping"] = Field(description="Integration family (discriminator).")
    provider: Literal["google_maps", "mapbox"] = Field(description="Provider this integration connects to.")
    capabilities: MappingCapabilities = Field(
        default_factory=MappingCapabilities, description="Capability flags: what the hub may do with this provider."
    )
    config: MappingConfig = Field(default_factory=MappingConfig, description="Typed configuration of this family.")


# --- WADA / ADAMS ------------------------------------------------------------------------------------------------

Code = Annotated[
    str,
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[A-Z0-9_-]{2,32}$"),
]


class WadaAdamsCapabilities(Strict):
    whereabouts_sync: bool = Field(False, description="Synchronise athlete whereabouts.")
    tue_management: bool = Field(False, description="Manage therapeutic use exemptions (TUE).")
    test_result_tracking: bool = Field(False, description="Track test results.")
    notification_relay: bool = Field(False, description="Relay ADAMS notifications to athletes/officials.")


class WadaAdamsConfig(Strict):
    organization_code: Code = Field(description="Anti-doping organisation code in ADAMS.")
    sport_codes: list[Code] = Field(min_length=1, max_length=20, description="Sport/discipline codes.")
    athlete_pool_ids: list[ExternalId] = Field(
        default_factory=list, max_length=200, description="Registered testing pools managed here."
    )


class WadaAdamsIntegrationCreate(IntegrationCreateBase):
    family: Literal["wada_adams"] = Field(description="Integration family (discriminator).")
    provider: Literal["adams"] = Field(description="Provider this integration connects to.")
    capabilities: WadaAdamsCapabilities = Field(
        default_factory=WadaAdamsCapabilities, description="Capability flags: what the hub may do with this provider."
    )
    config: WadaAdamsConfig = Field(description="Typed configuration of this family.")


# --- Insurance ---------------------------------------------------------------------------------------------------


class InsuranceCapabilities(Strict):
    auto_enrollment: bool = Field(False, description="Enrol new license holders in the group policy automatically.")
    claims_submission: bool = Field(False, description="Submit injury/damage claims.")
    premium_calculation: bool = Field(False, description="Ask the insurer for premiums.")
    certificate_generation: bool = Field(False, description="Generate insurance certificates for members.")


class InsuranceConfig(Strict):
    broker_id: ExternalId = Field(description="Broker id at the insurer.")
    policy_group_ids: list[ExternalId] = Field(
        default_factory=list, max_length=100, description="Policy groups members enrol into."
    )
    coverage_types: list[Literal["accident", "liability", "health", "travel", "equipment", "event_cancellation"]] = Field(
        default_factory=list, description="Coverages offered to members."
    )


class InsuranceIntegrationCreate(IntegrationCreateBase):
    family: Literal["insurance"] = Field(description="Integration family (discriminator).")
    provider: Literal["signed_rest"] = Field(
        description="Insurers publish no common API: a configurable signed-REST adapter."
    )
    capabilities: InsuranceCapabilities = Field(
        default_factory=InsuranceCapabilities, description="Capability flags: what the hub may do with this provider."
    )
    config: InsuranceConfig = Field(description="Typed configuration of this family.")


# --- Government sports registry ----------------------------------------------------------------------------------


def _ncrontab(value: str) -> str:
    fields = value.split()
    if len(fields) not in (5, 6) or not croniter.is_valid(value, second_at_beginning=len(fields) == 6):
        raise ValueError("must be a cron (5 fields) or NCRONTAB (6 fields, seconds first) expression")
    return value


Schedule = Annotated[str, Field(description="Cron or NCRONTAB expression.", examples=["0 0 3 1 * *"])]


class GovRegistryCapabilities(Strict):
    membership_reporting: bool = Field(False, description="Report memberships to the registry on the reporting schedule.")
    grant_applications: bool = Field(False, description="Submit grant applications.")
    facility_registration: bool = Field(False, description="Register facilities (boulodromes, clubhouses).")
    event_reporting: bool = Field(False, description="Report events and competitions.")
    compliance_tracking: bool = Field(False, description="Track compliance obligations and deadlines.")


class GovRegistryConfig(Strict):
    country_code: CountryCode
    federation_code: Code = Field(description="The federation's code in the registry.")
    reporting_schedule: Schedule | None = Field(
        None,
        description="When membership reports are delivered (report_memberships follows it while the integration is active).",
        examples=["0 0 3 1 * *"],
    )
    reporting_time_zone: str = Field("UTC", description="IANA time zone the reporting schedule is read in.")
    signing_key_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,100}$")] | None = Field(
        None, description="The `keyid` the registry knows our signing key by (default: the federation code)."
    )

    @field_validator("reporting_schedule")
    @classmethod
    def _schedule(cls, v: str | None) -> str | None:
        return None if v is None else _ncrontab(v)

    @field_validator("reporting_time_zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone such as Europe/Stockholm") from None
        return v


class GovSportsRegistryIntegrationCreate(IntegrationCreateBase):
    family: Literal["gov_sports_registry"] = Field(description="Integration family (discriminator).")
    provider: Literal["signed_rest"] = Field(description="Provider this integration connects to.")
    capabilities: GovRegistryCapabilities = Field(
        default_factory=GovRegistryCapabilities, description="Capability flags: what the hub may do with this provider."
    )
    config: GovRegistryConfig = Field(description="Typed configuration of this family.")

    @model_validator(mode="after")
    def _reporting_needs_schedule(self) -> GovSportsRegistryIntegrationCreate:
        if self.capabilities.membership_reporting and not self.config.reporting_schedule:
            raise ValueError("membership_reporting needs config.reporting_schedule (the registry's reporting schedule)")
        return self


# --- Accounting --------------------------------------------------------------------------------------------------

AccountNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.-]{1,10}$")]


class FiscalYear(Strict):
    year: int = Field(ge=2000, le=2100, description="Fiscal year, named by the year it starts in.", examples=[2026])
    start_month: int = Field(1, ge=1, le=12, description="Month the fiscal year starts (1 = January).")


class AccountingCapabilities(Strict):
    invoice_sync: bool = Field(True, description="Push invoices (license and tournament fees) to the ledger.")
    payment_sync: bool = Field(False, description="Push received payments and match them to invoices.")
    expense_sync: bool = Field(False, description="Push expenses.")
    vat_reporting: bool = Field(False, description="Report VAT per the provider's VAT codes.")
    reimbursement_export: bool = Field(False, description="Export approved reimbursements (Xledger, seed 002).")


class AccountingConfig(Strict):
    company_id: ExternalId | None = Field(None, description="Company/tenant/realm id at the provider.")
    fiscal_year: FiscalYear = Field(description="The fiscal year invoices are booked in.")
    sync_direction: SyncDirection = Field(SyncDirection.push, description="push, pull or bidirectional.")
    chart_of_accounts: dict[Slug, AccountNumber] = Field(
        default_factory=dict,
        max_length=500,
        description="Revenue category → account number.",
        examples=[{"license_fees": "3010", "tournament_fees": "3020"}],
    )
    default_vat_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,20}$")] | None = Field(
        None, description="VAT code applied where a line names none (e.g. MP1 = 25% in Fortnox)."
    )


class AccountingIntegrationCreate(IntegrationCreateBase):
    family: Literal["accounting"] = Field(description="Integration family (discriminator).")
    provider: Literal["fortnox", "xero", "quickbooks", "visma", "xledger"] = Field(
        description="Provider this integration connects to."
    )
    capabilities: AccountingCapabilities = Field(
        default_factory=AccountingCapabilities, description="Capability flags: what the hub may do with this provider."
    )
    config: AccountingConfig = Field(description="Typed configuration of this family.")


# --- CRM (seed 003's CRM settings; Dynamics 365 and EspoCRM from seeds 002/004) ----------------------------------

FieldName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class CrmCapabilities(Strict):
    member_sync: bool = Field(True, description="Synchronise member records with the CRM member object.")
    event_attendance: bool = Field(True, description="Write event registrations/attendance to the event tag field.")
    course_completion: bool = Field(False, description="Write completed courses to the course tag field.")
    order_sync: bool = Field(False, description="Write orders/transactions to the order object.")


class CrmConfig(Strict):
    instance_url: AnyUrl | None = Field(None, description="Dataverse org URL or EspoCRM site URL.")
    directory_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F-]{36}$")] | None = Field(
        None, description="Dynamics 365: the Entra ID tenant (directory) id the app registration lives in."
    )
    member_object: FieldName = Field(description="CRM object holding members (e.g. contact).")
    member_field_map: dict[FieldName, FieldName] = Field(
        min_length=1, max_length=500, description="Hub member field → CRM field."
    )
    event_tag_field: FieldName = Field(description="CRM field receiving event attendance/registration.")
    course_tag_field: FieldName | None = Field(None, description="CRM field receiving completed courses.")
    order_object: FieldName | None = Field(None, description="CRM object receiving orders/transactions.")
    order_field_map: dict[FieldName, FieldName] = Field(
        default_factory=dict, max_length=500, description="Hub order field → CRM field (required with order_object)."
    )
    order_key_field: FieldName | None = Field(
        None,
        description="CRM field on the order object holding the platform's order key (replays are found, not "
        "duplicated); default: the member key field's name.",
    )
    sync_direction: SyncDirection = Field(SyncDirection.bidirectional, description="push, pull or bidirectional.")
    member_key_field: FieldName | None = Field(
        None,
        description="CRM field holding the platform's member key, so a replayed create is found, not duplicated "
        "(default: externaluseridentifier on Dataverse, cHubMemberKey on EspoCRM).",
    )
    field_ownership: dict[FieldName, Literal["platform", "crm"]] = Field(
        default_factory=dict,
        max_length=500,
        description="Who owns a mapped field in a bidirectional sync: 'platform' (CRM edits are ignored and "
        "overwritten), 'crm' (never pushed; CRM edits flow to the platform). Unlisted fields are shared: the "
        "later change wins (platform updated_at vs the CRM's modified time).",
    )

    @model_validator(mode="after")
    def _orders(self) -> CrmConfig:
        if self.order_object and not self.order_field_map:
            raise ValueError("order_field_map is required when order_object is set")
        unknown = sorted(set(self.field_ownership) - set(self.member_field_map))
        if unknown:
            raise ValueError(f"field_ownership names fields that are not in member_field_map: {unknown}")
        return self


class CrmIntegrationCreate(IntegrationCreateBase):
    family: Literal["crm"] = Field(description="Integration family (discriminator).")
    provider: Literal["dynamics365", "espocrm"] = Field(description="Provider this integration connects to.")
    capabilities: CrmCapabilities = Field(
        default_factory=CrmCapabilities, description="Capability flags: what the hub may do with this provider."
    )
    config: CrmConfig = Field(description="Typed configuration of this family.")


# --- LMS, messaging, data collection (seeds 002 and 004) ---------------------------------------------------------


class LmsCapabilities(Strict):
    enrollment_sync: bool = Field(True, description="Synchronise course enrollments.")
    csv_fallback: bool = Field(True, description="Export CSV when the API is unavailable.")


class LmsConfig(Strict):
    portal_url: AnyUrl | None = Field(None, description="The LMS portal base URL, when a contract provides an API.")


class LmsIntegrationCreate(IntegrationCreateBase):
    family: Literal["lms"] = Field(description="Integration family (discriminator).")
    provider: Literal["cornerstone", "consio"] = Field(
        description="Provider this integration connects to (Consio exchanges enrollments like an LMS, seed 002)."
    )
    capabilities: LmsCapabilities = Field(
        default_factory=LmsCapabilities, description="Capability flags: what the hub may do with this provider."
    )
    config: LmsConfig = Field(default_factory=LmsConfig, description="Typed configuration of this family.")


class MessagingCapabilities(Strict):
    sms: bool = Field(True, description="Send SMS.")
    whatsapp: bool = Field(False, description="Send WhatsApp messages.")
    status_callbacks: bool = Field(True, description="Receive delivery status callbacks.")


class MessagingConfig(Strict):
    account_sid: Annotated[str, StringConstraints(pattern=r"^AC[0-9a-f]{32}$")] = Field(description="Twilio Account SID.")
    messaging_service_sid: Annotated[str, StringConstraints(pattern=r"^MG[0-9a-f]{32}$")] | None = Field(
        None, description="Messaging Service SID (sender pool; needed for scheduling)."
    )
    default_sender: Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")] | None = Field(
        None, description="E.164 sender number."
    )


class MessagingIntegrationCreate(IntegrationCreateBase):
    family: Literal["messaging"] = Field(description="Integration family (discriminator).")
    provider: Literal["twilio"] = Field(description="Provider this integration connects to.")
    capabilities: MessagingCapabilities = Field(
        default_factory=MessagingCapabilities, description="Capability flags: what the hub may do with this provider."
    )
    config: MessagingConfig = Field(description="Typed configuration of this family.")


class DataCollectionCapabilities(Strict):
    import_registrations: bool = Field(True, description="Import form submissions as registrations.")


class DataCollectionConfig(Strict):
    server_url: AnyUrl = Field(description="Kobo server (kf.kobotoolbox.org, eu.kobotoolbox.org or self-hosted).")
    asset_uids: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{10,40}$")]] = Field(
        min_length=1, max_length=50, description="Form (asset) uids to import submissions from."
    )


class DataCollectionIntegrationCreate(IntegrationCreateBase):
    family: Literal["data_collection"] = Field(description="Integration family (discriminator).")
    provider: Literal["kobo"] = Field(description="Provider this integration connects to.")
    capabilities: DataCollectionCapabilities = Field(
        default_factory=DataCollectionCapabilities, description="Capability flags: what the hub may do with this provider."
    )
    config: DataCollectionConfig = Field(description="Typed configuration of this family.")


FAMILY_CREATES: tuple[type[IntegrationCreateBase], ...] = (
    PaymentGatewayIntegrationCreate,
    CalendarIntegrationCreate,
    SocialMediaIntegrationCreate,
    StreamingIntegrationCreate,
    MappingIntegrationCreate,
    WadaAdamsIntegrationCreate,
    InsuranceIntegrationCreate,
    GovSportsRegistryIntegrationCreate,
    AccountingIntegrationCreate,
    CrmIntegrationCreate,
    LmsIntegrationCreate,
    MessagingIntegrationCreate,
    DataCollectionIntegrationCreate,
)
FAMILIES: tuple[str, ...] = tuple(c.model_fields["family"].annotation.__args__[0] for c in FAMILY_CREATES)  # type: ignore[union-attr]

# Spelled out (not built from FAMILY_CREATES) so a type checker sees the union; a test keeps the two equal.
AnyIntegrationCreate = (
    PaymentGatewayIntegrationCreate
    | CalendarIntegrationCreate
    | SocialMediaIntegrationCreate
    | StreamingIntegrationCreate
    | MappingIntegrationCreate
    | WadaAdamsIntegrationCreate
    | InsuranceIntegrationCreate
    | GovSportsRegistryIntegrationCreate
    | AccountingIntegrationCreate
    | CrmIntegrationCreate
    | LmsIntegrationCreate
    | MessagingIntegrationCreate
    | DataCollectionIntegrationCreate
)
IntegrationCreate = Annotated[AnyIntegrationCreate, Field(discriminator="family")]
FamilyName = Literal[FAMILIES]  # type: ignore[valid-type]
