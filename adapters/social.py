"""What the social-media family's adapters share: the pages or accounts an authorised user manages (each with
its own token, a secret the hub keeps as a reference and never answers), a post to publish, comments to
moderate and a daily metric series. Facebook Pages speaks Graph; Instagram and X follow with their own adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class ManagedAccount:
    account_id: str
    name: str
    token: str = field(repr=False)  # the page's own token: a secret, stored as a reference by the hub


@dataclass(frozen=True)
class Post:
    message: str
    link: str | None = None
    image_url: str | None = None
    scheduled_at: int | None = None  # Unix seconds; None: publish now


@dataclass(frozen=True)
class Comment:
    comment_id: str
    message: str
    author: str
    hidden: bool


@dataclass(frozen=True)
class MetricDay:
    metric: str
    day: date
    value: int
