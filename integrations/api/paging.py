"""One shape for a page of a listing: the items and the token for the next page."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, Field

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """Subclassed once per resource (`class PaymentPage(Page[GatewayPayment]): ...`) so the contract names each
    page by its resource rather than by pydantic's generic spelling."""

    items: list[T]
    next: str | None = Field(None, description="Continuation token for the next page (pass as `continuation`).")
