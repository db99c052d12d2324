"""The reference lamp's fade: a sane longest duration, and a new fade replaces a running one,
so long fades can never fill the action history and lock every later action out."""

from __future__ import annotations

from tests.support import eventually, lamp_server, started

HOUR_MS = 3_600_000


def fade(brightness: int, duration: int) -> dict[str, object]:
    return {"fade": {"input": {"brightness": brightness, "duration": duration}}}


async def test_a_fade_longer_than_an_hour_is_refused() -> None:
    async with started(lamp_server().create()) as client:
        for duration in (2**63, HOUR_MS + 1):
            response = await client.post("/actions", json=fade(80, duration))
            assert response.status_code == 400
            assert "maximum" in (await response.get_json())["message"]
        assert await (await client.get("/actions")).get_json() == []
        description = await (await client.get("/")).get_json()
        assert description["actions"]["fade"]["input"]["properties"]["duration"]["maximum"] == (
            HOUR_MS
        )


async def test_hour_long_fades_replace_each_other_and_never_fill_the_history() -> None:
    server = lamp_server()
    lamp = server.things.things[0]
    async with started(server.create()) as client:
        for i in range(lamp.action_history + 50):  # more than the history holds
            response = await client.post("/actions", json=fade(i % 101, HOUR_MS))
            assert response.status_code == 201, await response.get_data()
        running = await eventually(
            lambda: (r := [a for a in lamp.get_actions() if not a.finished]) and len(r) == 1 and r
        )
        newest = list(lamp.get_actions())[-1]
        assert running == [newest]  # only the newest fade still runs
        assert {str(a.status) for a in lamp.get_actions() if a is not newest} == {"cancelled"}
        # And the lamp still takes a short fade, which ends as asked.
        response = await client.post("/actions", json=fade(42, 1))
        assert response.status_code == 201
        await eventually(lambda: lamp.get_property("brightness") == 42)
