"""What one client may use: every limit of the server, in one place (see the README's Limits).

Plain settings, with no web stack behind them, so a config file can be checked against them
cheaply; :mod:`thingtalk.protocols` enforces them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Limits:
    """Every limit on what a client may use; the defaults suit a Raspberry Pi.

    Connections: ``max_websockets`` and ``max_streams`` (SSE) in total, and per client
    address; ``reserve_files`` descriptors stay free for everything else (plain HTTP, the
    state file, mDNS). Input: ``max_json_depth`` (arrays and objects nested), and each
    websocket's messages are handled at ``message_rate`` per second on average
    (``message_burst`` at once); a client sending faster is read more slowly, not refused.
    Output to each subscriber: the latest value of each property (never dropped), at most
    ``max_queued`` events and action statuses in ``max_queued_bytes`` (the oldest go first),
    and up to ``max_replies`` answers to its own requests before its socket stops being read.
    A subscriber whose one pending send has made no progress for ``subscriber_deadline``
    seconds has stopped reading: it is closed (1013). Idle websockets are pinged every
    ``ping_interval`` seconds so a peer that vanished is noticed.
    """

    max_websockets: int = 256
    max_websockets_per_client: int = 32
    max_streams: int = 256
    max_streams_per_client: int = 32
    reserve_files: int = 128
    max_json_depth: int = 32
    message_rate: float = 200.0
    message_burst: int = 100
    max_queued: int = 256
    max_queued_bytes: int = 256 * 1024
    max_replies: int = 64
    subscriber_deadline: float = 30.0
    ping_interval: float = 20.0

    def __post_init__(self) -> None:
        for field in fields(self):
            if not getattr(self, field.name) > 0:
                raise ValueError(f"limit {field.name} must be positive")

    @property
    def files_needed(self) -> int:
        """File descriptors the caps need: every websocket and stream, and the reserve."""
        return self.max_websockets + self.max_streams + self.reserve_files
