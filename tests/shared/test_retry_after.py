"""The wait a provider asks for, whatever form its header takes: seconds, an HTTP date, or (X) a Unix time."""

from __future__ import annotations

from shared.http import retry_after_seconds


def test_seconds_dates_and_unix_times() -> None:
    now = 1_800_000_000.0
    assert retry_after_seconds("30", now=now) == 30.0
    assert retry_after_seconds("Fri, 15 Jan 2027 08:00:10 GMT", now=1_800_000_000.0) is not None
    assert retry_after_seconds(str(int(now) + 5), now=now) == 6.0  # X's reset: a moment (rounded up), not 1.8e9 s
    assert retry_after_seconds(str(int(now) - 5), now=now) == 0.0  # already past
    assert retry_after_seconds("soon", now=now) is None and retry_after_seconds(None) is None
