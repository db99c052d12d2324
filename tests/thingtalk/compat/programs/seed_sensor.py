"""The thingtalk 0.1 README's humidity sensor, as its walkthrough writes it, plus the README's
three ``self.value.on(...)`` lines copied into a Property subclass.

Served by ``uvicorn seed_sensor:app``. The reading is a counter, so a test can tell every
notification apart; the README polls every 3 s, this every READ_EVERY seconds.
"""

import logging
from asyncio import CancelledError, get_event_loop, sleep

from thingtalk import Property, Thing, Value, WebThingServer, background_thread_loop

READ_EVERY = 0.2


class ObservedProperty(Property):
    """A property that wires its value to its thing itself, as the README shows."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.value.on("update", lambda _: self.thing.property_notify(self))
        self.value.on("sync", lambda _: self.thing.property_notify(self))
        self.value.on("update", lambda _: self.thing.property_action(self))


class HumiditySensor(Thing):  # the README calls this class Light too
    type = ['MultiLevelSensor'],  # (sic)
    description = 'A web connected humidity sensor'

    def __init__(self):
        super().__init__(
            'urn:dev:ops:my-humidity-sensor-1234',
            'My Humidity Sensor',
        )
        self.readings = 0

    async def build(self):
        self.level = Value(0.0)
        await self.add_property(
            ObservedProperty(
                'level',
                self.level,
                metadata={
                    '@type': 'LevelProperty',
                    'title': 'Humidity',
                    'type': 'number',
                    'description': 'The current humidity in %',
                    'minimum': 0,
                    'maximum': 100,
                    'unit': 'percent',
                    'readOnly': True,
                }))
        self.sensor_update_task = \
            get_event_loop().create_task(self.update_level())
        return self

    async def update_level(self):
        try:
            while True:
                await sleep(READ_EVERY)
                new_level = self.read_from_gpio()
                logging.debug('setting new humidity level: %s', new_level)
                await self.level.notify_of_external_update(new_level)
        except CancelledError:
            pass

    def read_from_gpio(self):
        self.readings += 1
        return float(self.readings % 100)


with background_thread_loop() as loop:
    app = WebThingServer(loop, HumiditySensor).create()
