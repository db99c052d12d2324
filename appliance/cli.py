"""The ``appliance`` console script; the work is done in :mod:`appliance.runtime.cli`."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``appliance`` command."""
    from .runtime.cli import main as runtime_main

    return runtime_main(argv)


if __name__ == "__main__":
    sys.exit(main())
