"""adapters/paging.py: each strategy walks a scripted provider the way the catalog says, and stops where it should.
(The same loop runs against the loopback fakes in the sync tests; these pin the edges: totals, short pages,
has-more flags, links, final cursors.)"""

from __future__ import annotations

from typing import Any

import pytest

from adapters.catalog import load
from adapters.paging import PageRequest, paginate
from adapters.spec import PaginationSpec


def walk(spec: PaginationSpec, bodies: list[Any], start: PageRequest | None = None) -> tuple[list[Any], list[PageRequest]]:
    sent: list[PageRequest] = []

    def fetch(request: PageRequest) -> Any:
        sent.append(request)
        return bodies[len(sent) - 1]

    pages = list(paginate(fetch, spec, start or PageRequest("/things", {"q": "x"})))
    return pages, sent


def test_page_numbers_stop_at_the_total_pages_field() -> None:
    spec = PaginationSpec(kind="page", page_param="page", size_param="limit", page_size=2, next_field="Meta/@Total")
    pages, sent = walk(spec, [{"Meta": {"@Total": 3}, "Things": [1, 2]}] * 3)
    assert [r.params for r in sent] == [{"q": "x", "limit": 2, "page": n} for n in (1, 2, 3)]
    assert len(pages) == 3


def test_page_numbers_without_a_total_stop_at_a_short_page() -> None:
    spec = PaginationSpec(kind="page", page_param="p", size_param="n", page_size=2, items_field="rows", start=0)
    pages, sent = walk(spec, [{"rows": [1, 2]}, {"rows": [3]}])
    assert [r.params["p"] for r in sent if r.params] == [0, 1] and [p.items for p in pages] == [[1, 2], [3]]


def test_offsets_advance_by_what_was_read_and_stop_at_the_total() -> None:
    spec = PaginationSpec(kind="offset", page_param="offset", size_param="maxSize", page_size=2, items_field="list")
    spec = spec.model_copy(update={"next_field": "total"})
    pages, sent = walk(spec, [{"total": 3, "list": [1, 2]}, {"total": 3, "list": [3]}])
    assert [r.params["offset"] for r in sent if r.params] == [0, 2]
    # an empty page ends a walk whose total was wrong
    _, sent = walk(spec, [{"total": 9, "list": [1, 2]}, {"total": 9, "list": []}])
    assert len(sent) == 2


def test_cursor_keeps_the_query_and_the_last_page_carries_the_final_cursor() -> None:
    spec = load().get("google_calendar").pagination
    pages, sent = walk(
        spec,
        [{"items": [1], "nextPageToken": "t2"}, {"items": [2], "nextSyncToken": "sync-9"}],
        PageRequest("/events", {"syncToken": "s"}),
    )
    assert sent[1].params == {"syncToken": "s", "maxResults": spec.page_size, "pageToken": "t2"}
    assert [p.final for p in pages] == [None, "sync-9"]


def test_has_more_flag_takes_the_cursor_from_the_last_record() -> None:
    spec = load().get("stripe").pagination
    _, sent = walk(
        spec, [{"data": [{"id": "a"}, {"id": "b"}], "has_more": True}, {"data": [{"id": "c"}], "has_more": False}]
    )
    assert sent[1].params and sent[1].params["starting_after"] == "b" and len(sent) == 2


@pytest.mark.parametrize("provider", ["outlook", "dynamics365"])
def test_delta_links_follow_next_links_with_the_size_preference(provider: str) -> None:
    spec = load().get(provider).pagination.model_copy(update={"page_size": 5})
    pages, sent = walk(
        spec,
        [{"value": [1], "@odata.nextLink": "https://x/next"}, {"value": [2], "@odata.deltaLink": "https://x/delta"}],
        PageRequest("/set", {"$select": "a"}, {"Prefer": "odata.track-changes"}),
    )
    assert sent[0].headers["Prefer"] == "odata.track-changes, odata.maxpagesize=5"
    assert sent[1] == PageRequest("https://x/next", None, sent[0].headers)  # the link carries the query
    assert [p.final for p in pages] == [None, "https://x/delta"]


def test_a_read_of_a_provider_without_paging_is_refused() -> None:
    with pytest.raises(ValueError, match="no paging"):
        walk(PaginationSpec(kind="none"), [{}])
