"""Timestamps in the one format the WebThings API uses."""

from __future__ import annotations

from datetime import UTC, datetime


def timestamp() -> str:
    """Now, as ``YYYY-MM-DDTHH:MM:SS+00:00`` (UTC, whole seconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
