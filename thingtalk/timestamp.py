"""Timestamps in the one format the WebThings API uses (and a finer one for events)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


def timestamp(moment: datetime | None = None) -> str:
    """``moment`` (default: now) as ``YYYY-MM-DDTHH:MM:SS+00:00`` (UTC, whole seconds)."""
    return (moment or now()).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def precise_timestamp(moment: datetime) -> str:
    """``moment`` as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` (UTC, microseconds)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
