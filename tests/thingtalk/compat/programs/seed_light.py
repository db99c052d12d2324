"""The thingtalk 0.1 README's dimmable light, as its walkthrough writes it.

Served by ``uvicorn seed_light:app``. The README's fragments are put together in a module;
only the import line names this library (the seed imported from ``thingtalk`` too).
"""

from thingtalk import Property, Thing, Value, WebThingServer, background_thread_loop


class Light(Thing):
    type = ['OnOffSwitch', 'Light'],  # (sic: the README's trailing comma makes a tuple)
    description = 'A web connected lamp'

    def __init__(self):
        super().__init__(
            'urn:dev:ops:my-lamp-1234',
            'My Lamp',
        )

    async def build(self):
        on = Property(
                'on',
                Value(True, lambda v: print('On-State is now', v)),
                metadata={
                    '@type': 'OnOffProperty',
                    'title': 'On/Off',
                    'type': 'boolean',
                    'description': 'Whether the lamp is turned on',
            })
        await self.add_property(on)

        brightness = Property(
                 'brightness',
                Value(50, lambda v: print('Brightness is now', v)),
                metadata={
                    '@type': 'BrightnessProperty',
                    'title': 'Brightness',
                    'type': 'number',
                    'description': 'The level of light from 0-100',
                    'minimum': 0,
                    'maximum': 100,
                    'unit': 'percent',
                })
        await self.add_property(brightness)


# If adding more than one thing, use MultipleThings() with a name.
# In the single thing case, the thing's name will be broadcast.
with background_thread_loop() as loop:
    app = WebThingServer(loop, Light).create()
