"""The document classes are declared statically; the unions a type checker reads must list every family."""

from __future__ import annotations

import typing

from integrations.documents.document import FAMILY_DOCUMENTS, AnyIntegration, Envelope
from integrations.documents.families import FAMILY_CREATES, AnyIntegrationCreate


def test_the_static_unions_list_every_family_once() -> None:
    assert typing.get_args(AnyIntegrationCreate) == FAMILY_CREATES
    assert typing.get_args(AnyIntegration) == FAMILY_DOCUMENTS
    for create, document in zip(FAMILY_CREATES, FAMILY_DOCUMENTS, strict=True):
        assert document.__bases__ == (create, Envelope)
        assert document.__name__ == create.__name__.removesuffix("Create")
