"""The document classes are declared statically; the unions a type checker reads must list every family."""

from __future__ import annotations

import typing

from integrations.documents.document import FAMILY_DOCUMENTS, AnyIntegration, Envelope
from integrations.documents.families import FAMILY_CREATES, AnyIntegrationCreate
from integrations.documents.ref import IntegrationRef
from integrations.wiring import Hub


def test_the_static_unions_list_every_family_once() -> None:
    assert typing.get_args(AnyIntegrationCreate) == FAMILY_CREATES
    assert typing.get_args(AnyIntegration) == FAMILY_DOCUMENTS
    for create, document in zip(FAMILY_CREATES, FAMILY_DOCUMENTS, strict=True):
        assert document.__bases__ == (create, Envelope)
        assert document.__name__ == create.__name__.removesuffix("Create")


def test_a_recent_document_is_at_most_recent_s_old_and_this_instances_writes_show_at_once(hub: Hub) -> None:
    """`recent` (the outbox intake's read) hands out what this instance read or wrote less than RECENT_S ago:
    another instance's change shows once that read is RECENT_S old, this instance's own change at once."""
    from devfakes.documents import fortnox
    from integrations.repository import RECENT_S, IntegrationRepository
    from integrations.service import create_integration

    now = [0.0]
    mine = IntegrationRepository(hub.integrations._table, clock=lambda: now[0])  # noqa: SLF001 - a second instance
    theirs = IntegrationRepository(hub.integrations._table)  # noqa: SLF001
    doc = create_integration("fed-r", fortnox("fed-r"), repo=mine, actor="t", now=hub.now).document
    assert mine.recent(IntegrationRef("fed-r", doc.id)).document.version == doc.version
    stored = theirs.get(IntegrationRef("fed-r", doc.id))
    theirs.replace(stored.document.model_copy(update={"version": 41}), etag=stored.etag)
    assert mine.recent(IntegrationRef("fed-r", doc.id)).document.version == doc.version  # still within RECENT_S
    now[0] += RECENT_S + 0.01
    assert mine.recent(IntegrationRef("fed-r", doc.id)).document.version == 41
    stored = mine.get(IntegrationRef("fed-r", doc.id))
    mine.replace(stored.document.model_copy(update={"version": 42}), etag=stored.etag)
    assert mine.recent(IntegrationRef("fed-r", doc.id)).document.version == 42
