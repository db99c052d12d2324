"""The appliance: a PWM-dimmed lamp and a DHT humidity/temperature sensor served as web things.

Built on :mod:`thingtalk` (the library) and :mod:`hardware` (the drivers): the config, the
``appliance`` command, the two things, and the state file that survives power cuts.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

# Read here rather than from thingtalk: `appliance check-config` (run at every start on the
# image) then loads no web stack.
try:
    __version__ = version("webthing-appliance")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
