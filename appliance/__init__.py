"""The appliance: a PWM-dimmed lamp and a DHT humidity/temperature sensor served as web things.

Built on :mod:`thingtalk` (the library) and :mod:`hardware` (the drivers): the config, the
``appliance`` command, the two things, and the state file that survives power cuts.
"""

from __future__ import annotations

from thingtalk import __version__

__all__ = ["__version__"]
