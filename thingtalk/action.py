"""Action requests: asynchronous tasks with a status a client can follow."""

from __future__ import annotations

import asyncio
import uuid
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .timestamp import timestamp

if TYPE_CHECKING:
    from .thing import Thing


class ActionStatus(StrEnum):
    """The life of an action request: created -> pending -> completed | failed | cancelled."""

    CREATED = "created"
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = frozenset({ActionStatus.COMPLETED, ActionStatus.FAILED, ActionStatus.CANCELLED})


class Action:
    """One request of an action. Subclass it and override :meth:`perform_action`.

    ``perform_action`` runs as its own asyncio task, so it may ``await asyncio.sleep``
    freely; it must never block the loop. Its return value becomes the action's
    ``output``; an exception marks the request ``failed`` with the error's text.
    """

    def __init__(self, thing: Thing, name: str, input_: Any = None, id_: str | None = None) -> None:
        self.id = id_ or uuid.uuid4().hex
        self.thing = thing
        self.name = name
        self.input = input_
        self.status = ActionStatus.CREATED
        self.time_requested = timestamp()
        self.time_completed: str | None = None
        self.output: Any = None
        self.error: str | None = None
        self.task: asyncio.Task[None] | None = None
        self.done = asyncio.Event()

    async def perform_action(self) -> Any:
        """Do the work. The default does nothing."""
        return None

    @property
    def finished(self) -> bool:
        """True once completed, failed or cancelled."""
        return self.status in FINISHED

    def _set_status(self, status: ActionStatus) -> None:
        self.status = status
        if status in FINISHED:
            self.time_completed = timestamp()
            self.done.set()
        self.thing.action_notify(self)

    async def _run(self) -> None:
        self._set_status(ActionStatus.PENDING)
        try:
            self.output = await self.perform_action()
        except asyncio.CancelledError:
            self._set_status(ActionStatus.CANCELLED)
            raise
        except Exception as exc:  # an action's failure is reported, never crashes the server
            self.error = str(exc) or type(exc).__name__
            self.thing.logger.exception("action %s %s failed", self.name, self.id)
            self._set_status(ActionStatus.FAILED)
        else:
            self._set_status(ActionStatus.COMPLETED)

    def start(self) -> None:
        """Start the task (the thing keeps a reference to it until it ends)."""
        self.task = self.thing.spawn(self._run(), name=f"action {self.name} {self.id}")

    async def cancel(self) -> None:
        """Cancel a running request and wait until it has stopped."""
        if self.task is None or self.task.done():
            if not self.finished:
                self._set_status(ActionStatus.CANCELLED)
            return
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        if not self.finished:  # cancelled before it ever ran
            self._set_status(ActionStatus.CANCELLED)
