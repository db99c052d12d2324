"""Action requests: asynchronous tasks with a status a client can follow."""

from __future__ import annotations

import asyncio
import inspect
import uuid
from enum import StrEnum
from typing import TYPE_CHECKING, Any, overload

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


# The orders an action's arguments come in: this library's, and webthing-python's
# ``Action.__init__(self, id_, thing, name, input_)``, told apart by the string id first.
_ORDER = ("thing", "name", "input_", "id_")
_WEBTHING_ORDER = ("id_", "thing", "name", "input_")


class Action:
    """One request of an action. Subclass it and override :meth:`perform_action`.

    An ``async def perform_action`` runs as its own asyncio task, so it may ``await
    asyncio.sleep`` freely; it must never block the loop. A plain ``def perform_action``
    (webthing-python's) runs in a worker thread, where it may block (``time.sleep``) and
    call the thing's setters without ``await``. Its return value becomes the action's
    ``output``; an exception marks the request ``failed`` with the error's text.

    Made as ``Action(thing, name, input_, id_)`` or, as webthing-python's subclasses do,
    ``Action.__init__(self, id_, thing, name, input_)``.
    """

    @overload
    def __init__(
        self, thing: Thing, name: str, input_: Any = None, id_: str | None = None
    ) -> None: ...

    @overload
    def __init__(self, id_: str, thing: Thing, name: str, input_: Any = None) -> None: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        order = _WEBTHING_ORDER if args and isinstance(args[0], str) else _ORDER
        if len(args) > len(order):
            raise TypeError(f"Action() takes at most {len(order)} arguments ({len(args)} given)")
        bound: dict[str, Any] = dict(zip(order, args, strict=False))
        for key, value in kwargs.items():
            if key not in _ORDER:
                raise TypeError(f"Action() got an unexpected keyword argument {key!r}")
            if key in bound:
                raise TypeError(f"Action() got multiple values for argument {key!r}")
            bound[key] = value
        for key in ("thing", "name"):
            if key not in bound:
                raise TypeError(f"Action() missing required argument {key!r}")
        self.id: str = bound.get("id_") or uuid.uuid4().hex
        self.thing: Thing = bound["thing"]
        self.name: str = bound["name"]
        self.input: Any = bound.get("input_")
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
            if inspect.iscoroutinefunction(self.perform_action):
                self.output = await self.perform_action()
            else:
                # A blocking perform_action: a worker thread keeps the loop serving. It
                # cannot be interrupted; a cancelled request is marked so at once.
                output = await asyncio.to_thread(self.perform_action)
                self.output = await output if inspect.isawaitable(output) else output
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
