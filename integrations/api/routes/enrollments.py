"""Course enrollments for an LMS integration (seed 002): delivered by sync_enrollments through the partner's
API, or as a CSV file by export_enrollments_csv."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from canonical.events import CourseEnrollment
from integrations.api.body import Body
from integrations.api.deps import IntakeDep, Ref, Writer
from integrations.api.intake import accepted, outbox_post
from integrations.api.problems import WRITE
from integrations.api.routing import api_router
from integrations.documents.document import LmsIntegration

router = api_router(prefix="/api/v1/tenants/{tenant_id}/integrations/{integration_id}", tags=["records"])


class EnrollmentBatch(Body):
    enrollments: list[CourseEnrollment] = Field(min_length=1, max_length=1000)


@outbox_post(router, "/outbox/enrollments", responses=WRITE)
def enqueue_enrollments(ref: Ref, principal: Writer, intake: IntakeDep, body: EnrollmentBatch) -> Any:
    """Hand course enrollments to the hub (delivered by export_enrollments_csv)"""
    document = intake.open(LmsIntegration, ref, "enrollment", "/enrollments", "takes no enrollments")
    return accepted(intake.store(document, "enrollment", body.enrollments))
