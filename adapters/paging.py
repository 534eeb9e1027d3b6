"""Paging as data: one loop (`paginate`) and a strategy per `PaginationSpec.kind`, so an adapter says what it
reads and the catalog says how the provider pages (the Nango rule: no hand-written paging loop in an adapter).

A strategy turns the request just answered and its body into the next request, or None at the end:
- page: a page number (`page_param`, from `start`, default 1), stopping at the total-pages field
  (`next_field`) or at a short page when the provider reports no total;
- offset: an offset (`page_param`, from `start`, default 0) advanced by the records read, stopping at the
  total field (`next_field`), an empty page, or a short page when there is no total;
- cursor: the response's next cursor (`next_field`) sent back in `page_param`; where the provider answers a
  has-more flag instead, the cursor is the last record's `cursor_item_field` (Stripe's `starting_after`);
- next_link / delta_link: the absolute link in `next_field`, which carries the query itself. A delta link's
  last page names where the next incremental read starts (`final_field`), as a cursor's may (Google's
  `nextSyncToken`): `Page.final` is set on the last page only.
Paths into a body are `/`-separated (OData names contain dots: `@odata.nextLink`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from adapters.spec import PaginationSpec


@dataclass(frozen=True)
class PageRequest:
    url: str  # a path under the base URL, or an absolute link the provider handed us
    params: dict[str, Any] | None = None  # None: the link carries the query
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    items: list[Any]
    body: Any  # the whole response, for what an adapter reads beside the records (deleted entries, totals)
    final: str | None  # last page only: where the next incremental read starts (delta link, sync token)


Fetch = Callable[[PageRequest], Any]  # one GET → its JSON body (the adapter maps provider errors there)


def dig(body: Any, path: str | None) -> Any:
    if not path:
        return None
    value = body
    for part in path.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


class Paginator(Protocol):
    def first(self, request: PageRequest) -> PageRequest: ...

    def after(self, request: PageRequest, body: Any, items: list[Any]) -> PageRequest | None: ...


class _Strategy:
    def __init__(self, spec: PaginationSpec) -> None:
        self.spec = spec
        self.size = spec.page_size or spec.max_size

    def first(self, request: PageRequest) -> PageRequest:
        headers = request.headers
        if self.spec.size_prefer and self.size:
            # The size is a preference of its own in the Prefer header (OData), sent with every page.
            preference = f"{self.spec.size_prefer}={self.size}"
            headers = {**headers, "Prefer": ", ".join(p for p in (headers.get("Prefer"), preference) if p)}
        params = request.params
        if params is not None and self.spec.size_param and self.size:
            params = {**params, self.spec.size_param: self.size}
        return replace(request, params=params, headers=headers)

    def short(self, items: list[Any]) -> bool:
        return not items or (self.size is not None and len(items) < self.size)

    def at(self, request: PageRequest, value: Any) -> PageRequest:
        assert self.spec.page_param, f"{self.spec.kind} paging needs page_param"
        return replace(request, params={**(request.params or {}), self.spec.page_param: value})


class PageNumbers(_Strategy):
    def first(self, request: PageRequest) -> PageRequest:
        return self.at(super().first(request), self.spec.start if self.spec.start is not None else 1)

    def after(self, request: PageRequest, body: Any, items: list[Any]) -> PageRequest | None:
        page = int((request.params or {})[self.spec.page_param or ""])
        total = dig(body, self.spec.next_field)
        done = page >= int(total) if total is not None else self.short(items)
        return None if done else self.at(request, page + 1)


class Offsets(_Strategy):
    def first(self, request: PageRequest) -> PageRequest:
        return self.at(super().first(request), self.spec.start if self.spec.start is not None else 0)

    def after(self, request: PageRequest, body: Any, items: list[Any]) -> PageRequest | None:
        offset = int((request.params or {})[self.spec.page_param or ""]) + len(items)
        total = dig(body, self.spec.next_field)
        done = not items or (offset >= int(total) if total is not None else self.short(items))
        return None if done else self.at(request, offset)


class Cursors(_Strategy):
    def after(self, request: PageRequest, body: Any, items: list[Any]) -> PageRequest | None:
        cursor = dig(body, self.spec.next_field)
        if self.spec.cursor_item_field:  # a has-more flag: the cursor is the last record's id
            cursor = items[-1].get(self.spec.cursor_item_field) if cursor and items else None
        return self.at(request, cursor) if cursor else None


class Links(_Strategy):
    def after(self, request: PageRequest, body: Any, items: list[Any]) -> PageRequest | None:
        link = dig(body, self.spec.next_field)
        return PageRequest(str(link), None, request.headers) if link else None


STRATEGIES: dict[str, Callable[[PaginationSpec], Paginator]] = {
    "page": PageNumbers,
    "offset": Offsets,
    "cursor": Cursors,
    "next_link": Links,
    "delta_link": Links,
}


def paginator_for(spec: PaginationSpec) -> Paginator:
    try:
        return STRATEGIES[spec.kind](spec)
    except KeyError:
        raise ValueError(f"the catalog declares no paging ({spec.kind}) for a paged read") from None


def paginate(fetch: Fetch, spec: PaginationSpec, start: PageRequest, *, items_field: str | None = None) -> Iterator[Page]:
    """Every page of one read, lazily: a caller that stops iterating stops calling the provider."""
    paginator = paginator_for(spec)
    request: PageRequest | None = paginator.first(start)
    while request is not None:
        body = fetch(request)
        items = list(dig(body, items_field or spec.items_field) or [])
        request = paginator.after(request, body, items)
        final = None if request is not None else dig(body, spec.final_field)
        yield Page(items, body, None if final is None else str(final))
