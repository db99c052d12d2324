"""Actions: lifecycle, failure, cancellation, close, bounded history, input validation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support import Blocker
from thingtalk import Action, ActionStatus, Thing
from thingtalk.descriptions.webthings import action_description
from thingtalk.errors import BadRequest, Busy, InvalidValue, NotFound

from .conftest import TIMESTAMP, Recorder, wait

FADE_INPUT = {
    "type": "object",
    "required": ["brightness", "duration"],
    "properties": {
        "brightness": {"type": "integer", "minimum": 0, "maximum": 100},
        "duration": {"type": "integer", "minimum": 1},
    },
}


class Fade(Action):
    async def perform_action(self) -> Any:
        await asyncio.sleep(self.input["duration"] / 1000)
        return {"reached": self.input["brightness"]}


class Boom(Action):
    async def perform_action(self) -> Any:
        raise RuntimeError("lamp on fire")


class Silent(Action):
    async def perform_action(self) -> Any:
        raise KeyError  # no message


class Noop(Action):
    pass


def perform_block(thing: Thing) -> Blocker:
    """Request the thing's "block" action (a Blocker, released by the test)."""
    action = thing.perform_action("block")
    assert isinstance(action, Blocker)
    return action


@pytest.fixture
async def thing():
    t = Thing("urn:dev:test:actions", "Actions", action_history=3)
    t.add_available_action("fade", {"title": "Fade", "input": FADE_INPUT}, Fade)
    t.add_available_action("boom", None, Boom)
    t.add_available_action("silent", None, Silent)
    t.add_available_action("block", None, Blocker)
    t.add_available_action("noop", {}, Noop)
    yield t
    await t.close()


async def test_lifecycle_created_pending_completed(thing: Thing, recorder: Recorder) -> None:
    thing.add_observer(recorder)

    action = thing.perform_action("fade", {"brightness": 30, "duration": 1})

    assert action.status == ActionStatus.CREATED
    assert TIMESTAMP.fullmatch(action.time_requested)
    assert action.time_completed is None
    assert thing.get_action("fade", action.id) is action

    await wait(action.done.wait())

    assert action.status == ActionStatus.COMPLETED
    assert action.finished
    assert action.output == {"reached": 30}
    assert action.error is None
    assert action.time_completed is not None and TIMESTAMP.fullmatch(action.time_completed)
    assert action.time_completed >= action.time_requested
    assert recorder.actions == [
        (action.id, "created"),
        (action.id, "pending"),
        (action.id, "completed"),
    ]
    assert action_description(action, "/things/0") == {
        "fade": {
            "href": f"/things/0/actions/fade/{action.id}",
            "timeRequested": action.time_requested,
            "timeCompleted": action.time_completed,
            "status": "completed",
            "input": {"brightness": 30, "duration": 1},
            "output": {"reached": 30},
        }
    }


async def test_the_action_runs_without_blocking_the_caller(thing: Thing) -> None:
    action = perform_block(thing)
    await wait(action.started.wait())
    assert action.status == ActionStatus.PENDING
    assert action.task is not None and action.task in thing.tasks
    action.release.set()
    await wait(action.done.wait())
    assert action.output == "released"
    assert action.task not in thing.tasks


async def test_ids_are_unique(thing: Thing) -> None:
    ids = {thing.perform_action("noop").id for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.parametrize(("name", "error"), [("boom", "lamp on fire"), ("silent", "KeyError")])
async def test_a_raising_action_fails_with_the_error_text(
    thing: Thing, recorder: Recorder, name: str, error: str
) -> None:
    thing.add_observer(recorder)
    action = thing.perform_action(name)
    await wait(action.done.wait())

    assert action.status == ActionStatus.FAILED
    assert action.error == error
    assert action.output is None
    assert action.time_completed is not None and TIMESTAMP.fullmatch(action.time_completed)
    assert [s for _, s in recorder.actions] == ["created", "pending", "failed"]
    assert action_description(action)[name]["error"] == error
    assert action_description(action)[name]["status"] == "failed"


async def test_remove_action_cancels_a_running_request(thing: Thing, recorder: Recorder) -> None:
    thing.add_observer(recorder)
    action = perform_block(thing)
    await wait(action.started.wait())

    await wait(thing.remove_action("block", action.id))

    assert action.status == ActionStatus.CANCELLED
    assert action.done.is_set()
    assert action.time_completed is not None and TIMESTAMP.fullmatch(action.time_completed)
    assert action.task is not None and action.task.cancelled()
    assert action.cleaned_up and not action.reached_end
    assert action.task not in thing.tasks
    assert list(thing.get_actions()) == []
    with pytest.raises(NotFound):
        thing.get_action("block", action.id)
    assert recorder.actions[-1] == (action.id, "cancelled")


async def test_remove_action_before_it_started(thing: Thing) -> None:
    action = perform_block(thing)
    # Awaited directly, so the action's task gets no turn before it is cancelled.
    await thing.remove_action("block", action.id)
    assert action.status == ActionStatus.CANCELLED
    assert not action.started.is_set()
    assert list(thing.get_actions()) == []


async def test_remove_action_drops_a_finished_request(thing: Thing) -> None:
    action = thing.perform_action("noop")
    await wait(action.done.wait())
    await thing.remove_action("noop", action.id)
    assert action.status == ActionStatus.COMPLETED
    assert list(thing.get_actions()) == []


async def test_remove_or_get_an_unknown_request(thing: Thing) -> None:
    action = thing.perform_action("noop")
    with pytest.raises(NotFound):
        await thing.remove_action("noop", "no-such-id")
    with pytest.raises(NotFound):
        await thing.remove_action("fade", action.id)  # the id exists, but under another name
    with pytest.raises(NotFound):
        thing.get_action("fade", action.id)
    assert thing.get_action("noop", action.id) is action


async def test_close_cancels_running_actions_and_tasks() -> None:
    thing = Thing()
    thing.add_available_action("block", None, Blocker)
    first = perform_block(thing)
    second = perform_block(thing)
    await wait(first.started.wait())
    await wait(second.started.wait())
    background = thing.spawn(asyncio.Event().wait())

    await wait(thing.close())

    for action in (first, second):
        assert action.status == ActionStatus.CANCELLED
        assert action.task is not None and action.task.cancelled()
        assert action.cleaned_up and not action.reached_end
    assert background.cancelled()
    assert thing.tasks == set()


async def test_close_leaves_finished_actions_alone(thing: Thing) -> None:
    action = thing.perform_action("noop")
    await wait(action.done.wait())
    await thing.close()
    assert action.status == ActionStatus.COMPLETED


# -- input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        None,
        {"brightness": 30},
        {"brightness": 101, "duration": 1},
        {"brightness": 30, "duration": 0},
        {"brightness": "30", "duration": 1},
        {"brightness": True, "duration": 1},
        [30, 1],
    ],
)
async def test_bad_input_is_refused_and_nothing_is_recorded(
    thing: Thing, recorder: Recorder, bad: Any
) -> None:
    thing.add_observer(recorder)
    with pytest.raises(InvalidValue, match="'fade'"):
        thing.perform_action("fade", bad)
    assert list(thing.get_actions()) == []
    assert recorder.actions == []
    assert thing.tasks == set()


async def test_input_to_an_action_that_takes_none_is_refused(thing: Thing) -> None:
    with pytest.raises(BadRequest, match="'noop'"):
        thing.perform_action("noop", {"x": 1})
    assert list(thing.get_actions()) == []


async def test_unknown_action_is_not_found(thing: Thing, recorder: Recorder) -> None:
    thing.add_observer(recorder)
    with pytest.raises(NotFound, match="'explode'"):
        thing.perform_action("explode")
    assert list(thing.get_actions()) == []
    assert recorder.actions == []


# -- history ------------------------------------------------------------------------


async def finish(*actions: Action) -> None:
    for action in actions:
        await wait(action.done.wait())


async def test_history_evicts_the_oldest_finished_first(thing: Thing) -> None:
    # action_history=3 in the fixture
    running = perform_block(thing)
    done1 = thing.perform_action("noop")
    done2 = thing.perform_action("noop")
    await finish(done1, done2)

    newest = thing.perform_action("noop")

    assert [a.id for a in thing.get_actions()] == [running.id, done2.id, newest.id]
    assert running.status in (ActionStatus.CREATED, ActionStatus.PENDING)  # never dropped

    await finish(newest)
    another = thing.perform_action("noop")
    assert [a.id for a in thing.get_actions()] == [running.id, newest.id, another.id]


async def test_history_refuses_new_requests_when_all_are_running(
    thing: Thing, recorder: Recorder
) -> None:
    blockers = [perform_block(thing) for _ in range(3)]
    thing.add_observer(recorder)

    with pytest.raises(Busy) as excinfo:
        thing.perform_action("noop")

    assert excinfo.value.status == 503
    assert [a.id for a in thing.get_actions()] == [b.id for b in blockers]
    assert recorder.actions == []

    blockers[0].release.set()
    await finish(blockers[0])
    accepted = thing.perform_action("noop")
    assert [a.id for a in thing.get_actions()] == [blockers[1].id, blockers[2].id, accepted.id]


async def test_get_actions_filters_by_name(thing: Thing) -> None:
    a = thing.perform_action("noop")
    b = thing.perform_action("boom")
    c = thing.perform_action("noop")
    assert list(thing.get_actions("noop")) == [a, c]
    assert list(thing.get_actions("boom")) == [b]
    assert list(thing.get_actions()) == [a, b, c]
    await finish(a, b, c)
