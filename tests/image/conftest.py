"""Tests of image/: fast checks of the pi-gen stage and the shared install files run with the
rest of the suite; the QEMU boot (`image_boot`) runs only under `make image-test`."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "image_boot: boots the SD-card image in QEMU (minutes; `make image-test`)"
    )
