"""The typed integration families (seed 000's nine, plus CRM/LMS/messaging/data collection from seeds 002–004).

Each family is a `<Family>IntegrationCreate`: what a tenant admin writes (provider, capabilities, config,
credential refs). The stored document adds the envelope (see `document.py`).
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from croniter import croniter
from pydantic import AnyUrl, BeforeValidator, Field, StringConstraints, field_validator, model_validator

from integrations.documents.common import (
    CountryCode, CredentialRefs, Currency, ExternalId, Hostname, Slug, Strict, SyncDirection,
)

DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=120)]


class IntegrationCreateBase(Strict):
    display_name: DisplayName = Field(description="Name shown to tenant admins.", examples=["Fortnox (finance)"])
    sandbox: bool = Field(True, description="Talk to the provider's sandbox/test environment.")
    oauth_client_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        None, description="OAuth2 client id (not a secret); defaults to the hub's own app registration.")
    credentials: CredentialRefs = Field(default_factory=CredentialRefs,
                                        description="Key Vault references for this integration's secrets.")


# --- Payment gateway ---------------------------------------------------------------------------------------------

class PaymentGatewayCapabilities(Strict):
    payments: bool = Field(True, description="Take payments (checkout, payment requests).")
    refunds: bool = Field(False, description="Issue refunds.")
    subscriptions: bool = Field(False, description="Recurring payments (license renewals).")
    payouts: bool = Field(False, description="Pay out to clubs/officials.")


class PaymentGatewayConfig(Strict):
    supported_currencies: list[Currency] = Field(min_length=1, max_length=50,
                                                 description="ISO 4217 currencies accepted through this gateway.")
    default_currency: Currency = Field(description="Currency used when a payment names none; one of supported_currencies.")
    merchant_id: ExternalId | None = Field(None, description="Merchant/account id at the provider (Swish payee alias, PayPal merchant id).")
    psp: Literal["mollie", "adyen"] | None = Field(None, description="iDEAL only: the payment service provider carrying iDEAL.")

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
    capabilities: PaymentGatewayCapabilities = Field(default_factory=PaymentGatewayCapabilities)
    config: PaymentGatewayConfig

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
    event_type_filter: list[Slug] = Field(default_factory=list,
                                          description="Only these event types sync (empty = all).")


class CalendarIntegrationCreate(IntegrationCreateBase):
    family: Literal["calendar"]
    provider: Literal["google_calendar", "outlook", "ical"]
    capabilities: CalendarCapabilities = Field(default_factory=CalendarCapabilities)
    config: CalendarConfig = Field(default_factory=CalendarConfig)

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
    kind: Literal["page", "account"] = Field("page")
    access_token_ref: Annotated[str, Field(description="Key Vault reference of this page's token.")] | None = None

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
    family: Literal["social_media"]
    provider: Literal["facebook", "instagram", "x"]
    capabilities: SocialMediaCapabilities = Field(default_factory=SocialMediaCapabilities)
    config: SocialMediaConfig = Field(default_factory=SocialMediaConfig)


# --- Streaming ---------------------------------------------------------------------------------------------------

class StreamingCapabilities(Strict):
    channel_management: bool = Field(True, description="Create/update broadcasts on the channel.")
    dvr: bool = Field(False, description="Viewers can rewind live streams.")
    chat: bool = Field(False, description="Live chat enabled.")
    auto_record: bool = Field(False, description="Record streams automatically.")


class StreamingConfig(Strict):
    channel_id: ExternalId | None = Field(None, description="Channel id at the provider.")
    rtmp_url: AnyUrl | None = Field(None, description="Ingest URL; rtmp:// or rtmps:// only.",
                                    examples=["rtmps://a.rtmp.youtube.com/live2"])

    @field_validator("rtmp_url")
    @classmethod
    def _rtmp(cls, v: AnyUrl | None) -> AnyUrl | None:
        if v is not None and v.scheme not in ("rtmp", "rtmps"):
            raise ValueError("rtmp_url must use rtmp:// or rtmps://")
        return v


class StreamingIntegrationCreate(IntegrationCreateBase):
    family: Literal["streaming"]
    provider: Literal["youtube", "twitch"]
    capabilities: StreamingCapabilities = Field(default_factory=StreamingCapabilities)
    config: StreamingConfig = Field(default_factory=StreamingConfig)


# --- Mapping -----------------------------------------------------------------------------------------------------

class MappingCapabilities(Strict):
    geocoding: bool = True
    directions: bool = False
    static_maps: bool = False
    places_search: bool = False


class MappingConfig(Strict):
    domain_allowlist: list[Hostname] = Field(default_factory=list, max_length=100,
                                             description="Hostnames allowed to receive the browser key.")
    monthly_usage_budget: int | None = Field(None, ge=1, description="Requests per month before the hub stops calling.")


class MappingIntegrationCreate(IntegrationCreateBase):
    family: Literal["mapping"]
    provider: Literal["google_maps", "mapbox"]
    capabilities: MappingCapabilities = Field(default_factory=MappingCapabilities)
    config: MappingConfig = Field(default_factory=MappingConfig)


# --- WADA / ADAMS ------------------------------------------------------------------------------------------------

Code = Annotated[str, BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
                 StringConstraints(pattern=r"^[A-Z0-9_-]{2,32}$")]


class WadaAdamsCapabilities(Strict):
    whereabouts_sync: bool = False
    tue_management: bool = False
    test_result_tracking: bool = False
    notification_relay: bool = False


class WadaAdamsConfig(Strict):
    organization_code: Code = Field(description="Anti-doping organisation code in ADAMS.")
    sport_codes: list[Code] = Field(min_length=1, max_length=20, description="Sport/discipline codes.")
    athlete_pool_ids: list[ExternalId] = Field(default_factory=list, max_length=200,
                                                description="Registered testing pools managed here.")


class WadaAdamsIntegrationCreate(IntegrationCreateBase):
    family: Literal["wada_adams"]
    provider: Literal["adams"]
    capabilities: WadaAdamsCapabilities = Field(default_factory=WadaAdamsCapabilities)
    config: WadaAdamsConfig


# --- Insurance ---------------------------------------------------------------------------------------------------

class InsuranceCapabilities(Strict):
    auto_enrollment: bool = False
    claims_submission: bool = False
    premium_calculation: bool = False
    certificate_generation: bool = False


class InsuranceConfig(Strict):
    broker_id: ExternalId = Field(description="Broker id at the insurer.")
    policy_group_ids: list[ExternalId] = Field(default_factory=list, max_length=100)
    coverage_types: list[Literal["accident", "liability", "health", "travel", "equipment", "event_cancellation"]] = Field(
        default_factory=list, description="Coverages offered to members.")


class InsuranceIntegrationCreate(IntegrationCreateBase):
    family: Literal["insurance"]
    provider: Literal["signed_rest"] = Field(description="Insurers publish no common API: a configurable signed-REST adapter.")
    capabilities: InsuranceCapabilities = Field(default_factory=InsuranceCapabilities)
    config: InsuranceConfig


# --- Government sports registry ----------------------------------------------------------------------------------

def _ncrontab(value: str) -> str:
    fields = value.split()
    if len(fields) not in (5, 6) or not croniter.is_valid(value, second_at_beginning=len(fields) == 6):
        raise ValueError("must be a cron (5 fields) or NCRONTAB (6 fields, seconds first) expression")
    return value


Schedule = Annotated[str, Field(description="Cron or NCRONTAB expression.", examples=["0 0 3 1 * *"])]


class GovRegistryCapabilities(Strict):
    membership_reporting: bool = False
    grant_applications: bool = False
    facility_registration: bool = False
    event_reporting: bool = False
    compliance_tracking: bool = False


class GovRegistryConfig(Strict):
    country_code: CountryCode
    federation_code: Code = Field(description="The federation's code in the registry.")
    reporting_schedule: Schedule | None = None

    @field_validator("reporting_schedule")
    @classmethod
    def _schedule(cls, v: str | None) -> str | None:
        return None if v is None else _ncrontab(v)


class GovSportsRegistryIntegrationCreate(IntegrationCreateBase):
    family: Literal["gov_sports_registry"]
    provider: Literal["signed_rest"]
    capabilities: GovRegistryCapabilities = Field(default_factory=GovRegistryCapabilities)
    config: GovRegistryConfig


# --- Accounting --------------------------------------------------------------------------------------------------

AccountNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.-]{1,10}$")]


class FiscalYear(Strict):
    year: int = Field(ge=2000, le=2100, description="Fiscal year, named by the year it starts in.", examples=[2026])
    start_month: int = Field(1, ge=1, le=12, description="Month the fiscal year starts (1 = January).")


class AccountingCapabilities(Strict):
    invoice_sync: bool = True
    payment_sync: bool = False
    expense_sync: bool = False
    vat_reporting: bool = False
    reimbursement_export: bool = Field(False, description="Export approved reimbursements (Xledger, seed 002).")


class AccountingConfig(Strict):
    company_id: ExternalId | None = Field(None, description="Company/tenant/realm id at the provider.")
    fiscal_year: FiscalYear
    sync_direction: SyncDirection = SyncDirection.push
    chart_of_accounts: dict[Slug, AccountNumber] = Field(
        default_factory=dict, max_length=500,
        description="Revenue category → account number.", examples=[{"license_fees": "3010", "tournament_fees": "3020"}])
    default_vat_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,20}$")] | None = Field(
        None, description="VAT code applied where a line names none (e.g. MP1 = 25% in Fortnox).")


class AccountingIntegrationCreate(IntegrationCreateBase):
    family: Literal["accounting"]
    provider: Literal["fortnox", "xero", "quickbooks", "visma", "xledger"]
    capabilities: AccountingCapabilities = Field(default_factory=AccountingCapabilities)
    config: AccountingConfig


# --- CRM (seed 003's CRM settings; Dynamics 365 and EspoCRM from seeds 002/004) ----------------------------------

FieldName = Annotated[str, StringConstraints(min_length=1, max_length=100)]


class CrmCapabilities(Strict):
    member_sync: bool = True
    event_attendance: bool = True
    course_completion: bool = False
    order_sync: bool = False


class CrmConfig(Strict):
    instance_url: AnyUrl | None = Field(None, description="Dataverse org URL or EspoCRM site URL.")
    member_object: FieldName = Field(description="CRM object holding members (e.g. contact).")
    member_field_map: dict[FieldName, FieldName] = Field(min_length=1, max_length=500,
                                                         description="Hub member field → CRM field.")
    event_tag_field: FieldName = Field(description="CRM field receiving event attendance/registration.")
    course_tag_field: FieldName | None = Field(None, description="CRM field receiving completed courses.")
    order_object: FieldName | None = Field(None, description="CRM object receiving orders/transactions.")
    order_field_map: dict[FieldName, FieldName] = Field(default_factory=dict, max_length=500)
    sync_direction: SyncDirection = SyncDirection.bidirectional

    @model_validator(mode="after")
    def _orders(self) -> CrmConfig:
        if self.order_object and not self.order_field_map:
            raise ValueError("order_field_map is required when order_object is set")
        return self


class CrmIntegrationCreate(IntegrationCreateBase):
    family: Literal["crm"]
    provider: Literal["dynamics365", "espocrm", "consio"]
    capabilities: CrmCapabilities = Field(default_factory=CrmCapabilities)
    config: CrmConfig


# --- LMS, messaging, data collection (seeds 002 and 004) ---------------------------------------------------------

class LmsCapabilities(Strict):
    enrollment_sync: bool = True
    csv_fallback: bool = Field(True, description="Export CSV when the API is unavailable.")


class LmsConfig(Strict):
    portal_url: AnyUrl | None = Field(None, description="The LMS portal base URL, when a contract provides an API.")


class LmsIntegrationCreate(IntegrationCreateBase):
    family: Literal["lms"]
    provider: Literal["cornerstone"]
    capabilities: LmsCapabilities = Field(default_factory=LmsCapabilities)
    config: LmsConfig = Field(default_factory=LmsConfig)


class MessagingCapabilities(Strict):
    sms: bool = True
    whatsapp: bool = False
    status_callbacks: bool = True


class MessagingConfig(Strict):
    account_sid: Annotated[str, StringConstraints(pattern=r"^AC[0-9a-f]{32}$")] = Field(description="Twilio Account SID.")
    messaging_service_sid: Annotated[str, StringConstraints(pattern=r"^MG[0-9a-f]{32}$")] | None = None
    default_sender: Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")] | None = Field(
        None, description="E.164 sender number.")


class MessagingIntegrationCreate(IntegrationCreateBase):
    family: Literal["messaging"]
    provider: Literal["twilio"]
    capabilities: MessagingCapabilities = Field(default_factory=MessagingCapabilities)
    config: MessagingConfig


class DataCollectionCapabilities(Strict):
    import_registrations: bool = True


class DataCollectionConfig(Strict):
    server_url: AnyUrl = Field(description="Kobo server (kf.kobotoolbox.org, eu.kobotoolbox.org or self-hosted).")
    asset_uids: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{10,40}$")]] = Field(
        min_length=1, max_length=50, description="Form (asset) uids to import submissions from.")


class DataCollectionIntegrationCreate(IntegrationCreateBase):
    family: Literal["data_collection"]
    provider: Literal["kobo"]
    capabilities: DataCollectionCapabilities = Field(default_factory=DataCollectionCapabilities)
    config: DataCollectionConfig


FAMILY_CREATES: tuple[type[IntegrationCreateBase], ...] = (
    PaymentGatewayIntegrationCreate, CalendarIntegrationCreate, SocialMediaIntegrationCreate,
    StreamingIntegrationCreate, MappingIntegrationCreate, WadaAdamsIntegrationCreate, InsuranceIntegrationCreate,
    GovSportsRegistryIntegrationCreate, AccountingIntegrationCreate, CrmIntegrationCreate, LmsIntegrationCreate,
    MessagingIntegrationCreate, DataCollectionIntegrationCreate,
)
FAMILIES: tuple[str, ...] = tuple(c.model_fields["family"].annotation.__args__[0] for c in FAMILY_CREATES)  # type: ignore[union-attr]

IntegrationCreate = Annotated[Union[tuple(FAMILY_CREATES)], Field(discriminator="family")]  # type: ignore[valid-type]
FamilyName = Literal[FAMILIES]  # type: ignore[valid-type]
