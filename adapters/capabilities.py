"""What each sync operation needs of an adapter: one Protocol per capability a catalog entry can list.

A provider's catalog entry names its capabilities (`"capabilities": ["push_invoices", …]`); its adapter class
must then have the methods of the matching Protocol here, and a test holds every entry to that
(`implements`). The sync engine's operations are typed against these Protocols, not against a family's base
class, so a family base no longer carries `raise NotImplementedError` stubs that would satisfy any check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, Protocol

from adapters.accounting import Expense, Invoice, InvoiceRef, InvoiceStatus, Payment
from adapters.calendar import CalendarEvent, EventPage, Watch
from adapters.crm import ChangePage, RemoteMember
from adapters.maps import MapImage, Place, Route
from adapters.social import Comment, ManagedAccount, MetricDay, Post
from adapters.streaming import Broadcast, LiveStream
from canonical.events import CourseEnrollment
from canonical.messages import Message


class InvoicePush(Protocol):
    def find_invoice(self, key: str) -> str | None: ...
    def push_invoice(self, invoice: Invoice) -> str: ...


class PaymentPush(Protocol):
    def find_payment(self, payment: Payment, invoice: InvoiceRef) -> str | None: ...
    def push_payment(self, payment: Payment, invoice: InvoiceRef) -> str: ...


class ExpensePush(Protocol):
    def find_expense(self, expense: Expense) -> str | None: ...
    def push_expense(self, expense: Expense) -> str: ...


class InvoiceChanges(Protocol):
    def changed_invoices(self, since: str | None) -> Iterator[list[InvoiceStatus]]:
        """Pages of the ledger's invoices changed at or after `since` (None: all of them)."""
        ...

    def invoice_cursor(self, run_started: datetime) -> str:
        """Where the next pull starts, in the provider's time format: at or before the run's start, less the
        ledger's filter resolution (Fortnox filters by the minute)."""
        ...


class ReimbursementExport(Protocol):
    def find_reimbursement(self, key: str) -> str | None: ...
    def export_reimbursement(self, payload: dict[str, Any]) -> str: ...


class EnrollmentFiles(Protocol):
    @property
    def csv_fallback(self) -> bool:
        """Whether enrollments may leave as a CSV file."""
        ...


class EnrollmentSync(EnrollmentFiles, Protocol):
    @property
    def has_api(self) -> bool: ...
    def push_enrollment(self, enrollment: CourseEnrollment) -> str: ...


class MemberRecords(Protocol):
    def changed_members(self, cursor: str | None) -> Iterator[ChangePage]:
        """Pages of records changed since `cursor` (all when None); CursorExpired when the CRM forgot it."""
        ...

    def get_member(self, external_id: str) -> RemoteMember: ...
    def find_member(self, key: str) -> RemoteMember | None: ...
    def create_member(self, key: str, fields: dict[str, Any]) -> RemoteMember: ...
    def update_member(self, external_id: str, fields: dict[str, Any], version: str | None) -> RemoteMember: ...


class TagFields(Protocol):
    def read_field(self, external_id: str, field_name: str) -> tuple[Any, str | None]:
        """One field of a member record and the record's version (for a conditional update)."""
        ...

    def update_member(self, external_id: str, fields: dict[str, Any], version: str | None) -> RemoteMember: ...


class OrderRecords(Protocol):
    def find_record(self, object_name: str, key: str) -> str | None:
        """The CRM id of an order-like record carrying our key (order_key_field), if any."""
        ...

    def create_record(self, object_name: str, key: str, fields: dict[str, Any]) -> str: ...


class MessageSend(Protocol):
    def find_message(self, message: Message) -> str | None: ...
    def send_message(self, message: Message) -> str: ...


class SubmissionReads(Protocol):
    def submissions(self, asset_uid: str, since: str | None) -> Iterator[list[dict[str, Any]]]:
        """Pages of a form's submissions at or after `since` (ISO time), oldest first."""
        ...


class EventWrites(Protocol):
    def find_event(self, key: str) -> str | None: ...
    def create_event(self, event: CalendarEvent) -> str: ...
    def update_event(self, external_id: str, event: CalendarEvent) -> str: ...
    def delete_event(self, external_id: str) -> None: ...


class EventChanges(Protocol):
    def changes(self, sync_token: str | None) -> Iterator[EventPage]:
        """Pages of changes since `sync_token` (None: every event, a full read). Raises CursorExpired."""
        ...

    def full_read_covers(self, starts_at: str) -> bool:
        """Whether the last full read would have listed an event starting then (Graph reads a window)."""
        ...


class ChangeWatch(Protocol):
    """A provider the hub subscribes to for change notifications (Google channels, Graph subscriptions)."""

    def watch_changes(self, secret: str, expires_at: datetime) -> Watch: ...
    def renew_watch(self, watch: Watch, secret: str, expires_at: datetime) -> Watch: ...
    def stop_watch(self, watch: Watch) -> None: ...


class MembershipReports(Protocol):
    def put_membership_report(self, report: dict[str, Any]) -> str: ...


def protocol_members(protocol: type) -> set[str]:
    """The methods and properties a Protocol declares, its bases' included (typing keeps this private)."""
    names: set[str] = set()
    for cls in protocol.__mro__:
        if cls is object or cls is Protocol or not getattr(cls, "_is_protocol", False):
            continue
        names |= {n for n in vars(cls) if not n.startswith("_")}
    return names


def implements(adapter_class: type, protocol: type) -> bool:
    """Whether an adapter class has everything a capability's Protocol declares (an abstract stub would not
    count: the family bases declare none of these)."""
    return all(hasattr(adapter_class, name) for name in protocol_members(protocol))


class Geocoding(Protocol):
    def geocode(self, address: str, *, region: str | None = None) -> list[Place]: ...


class Directions(Protocol):
    def directions(self, origin: str, destination: str, *, mode: str = "driving") -> list[Route]: ...


class StaticMaps(Protocol):
    def static_map(self, center: str, *, zoom: int, width: int, height: int) -> MapImage: ...


class PlacesSearch(Protocol):
    def places_search(self, query: str) -> list[Place]: ...


class InsuranceEnrolments(Protocol):
    def put_enrolment(self, enrolment: dict[str, Any]) -> str: ...


class ClaimSubmissions(Protocol):
    def put_claim(self, claim: dict[str, Any]) -> str: ...
    def claim(self, key: str) -> dict[str, Any] | None: ...


class PremiumQuotes(Protocol):
    def quote_premium(self, request: dict[str, Any]) -> dict[str, Any]: ...


class Certificates(Protocol):
    def certificate(self, licence_key: str, group: str | None = None) -> bytes | None: ...


class WhereaboutsFilings(Protocol):
    def put_whereabouts(self, filing: dict[str, Any]) -> str: ...


class TueSubmissions(Protocol):
    def put_tue(self, tue: dict[str, Any]) -> str: ...
    def tue(self, key: str) -> dict[str, Any] | None: ...


class TestResults(Protocol):
    def changed_results(self, since: str | None) -> Iterator[list[dict[str, Any]]]: ...
    def result_cursor(self, run_started: datetime) -> str: ...


class AdamsNotifications(Protocol):
    def put_notification(self, notification: dict[str, Any], key: str) -> str: ...


class RegistryFilings(Protocol):
    def put_filing(self, kind: str, filing: dict[str, Any]) -> str: ...
    def filing(self, kind: str, key: str) -> dict[str, Any] | None: ...


class ComplianceObligations(Protocol):
    def changed_obligations(self, since: str | None) -> Iterator[list[dict[str, Any]]]: ...
    def obligation_cursor(self, run_started: datetime) -> str: ...


class VatReports(Protocol):
    def vat_report(self, start: str, end: str) -> dict[str, Any]:
        """The ledger's own VAT summary for [start, end] (YYYY-MM-DD): {"rows": [{code, net, vat}], …}."""
        ...


class Broadcasts(Protocol):
    def create_stream(self, title: str) -> LiveStream: ...
    def create_broadcast(self, *, title: str, scheduled_start: str, privacy: str, stream_id: str) -> Broadcast: ...


class SocialAccounts(Protocol):
    def account_token(self, account_id: str, operation: str) -> str: ...


class SocialPublish(SocialAccounts, Protocol):
    def managed_accounts(self) -> list[ManagedAccount]: ...
    def check_account(self, account_id: str, token: str) -> str: ...
    def publish(self, account_id: str, token: str, post: Post) -> str: ...


class SocialInsights(SocialAccounts, Protocol):
    def insights(self, account_id: str, token: str, start: date, end: date) -> Iterator[MetricDay]: ...


class SocialModeration(SocialAccounts, Protocol):
    def comments(self, post_id: str, token: str) -> list[Comment]: ...
    def hide_comment(self, comment_id: str, token: str, hidden: bool) -> None: ...
    def delete_comment(self, comment_id: str, token: str) -> None: ...


class SocialAutoPublish(SocialAccounts, Protocol):
    def shown_text(self, post: Post) -> str: ...
    def recent_posts(self, account_id: str, token: str) -> list[tuple[str, str]]: ...
    def publish(self, account_id: str, token: str, post: Post) -> str: ...
