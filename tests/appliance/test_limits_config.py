"""The config's [limits] reach the server, and a config file nested past sense is refused
clearly (it once raised RecursionError)."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.cli import main
from appliance.config import ConfigError, loads_config
from appliance.service import build_appliance
from hardware import select_backend
from thingtalk import Limits


def test_limits_default_to_the_library_s_and_reach_the_server(tmp_path: Path) -> None:
    assert loads_config("").limits.limits() == Limits()
    config = loads_config(
        f"""
        [state]
        dir = "{tmp_path}"
        [limits]
        max_websockets = 40
        max_websockets_per_client = 4
        max_streams = 10
        subscriber_deadline = 12.5
        """
    )
    appliance = build_appliance(config, select_backend("simulated"))
    try:
        limits = appliance.server.limits
        assert (limits.max_websockets, limits.max_websockets_per_client) == (40, 4)
        assert (limits.max_streams, limits.subscriber_deadline) == (10, 12.5)
        assert limits.max_json_depth == Limits().max_json_depth
    finally:
        appliance.close_hardware()


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[limits]\nmax_websockets = 0", "limits.max_websockets"),
        ("[limits]\nmessage_rate = -1", "limits.message_rate"),
        ("[limits]\nsubscriber_deadline = 'soon'", "limits.subscriber_deadline"),
        ("[limits]\nmax_json_depth = 100000", "limits.max_json_depth"),
        ("[limits]\nmax_sockets = 3", "limits.max_sockets"),
    ],
)
def test_bad_limits_name_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        loads_config(text)


NESTED = {
    "arrays": "x = " + "[" * 20_000 + "]" * 20_000,
    "inline tables": "x = " + "{a = " * 20_000 + "1" + "}" * 20_000,
    "arrays in [limits]": "[limits]\nmax_queued = " + "[" * 20_000 + "]" * 20_000,
}


@pytest.mark.parametrize("text", NESTED.values(), ids=NESTED.keys())
def test_a_config_nested_past_sense_is_refused_clearly(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ConfigError, match="nested far too deeply"):
        loads_config(text)
    config = tmp_path / "deep.toml"
    config.write_text(text)
    assert main(["check-config", "--config", str(config)]) == 1
    error = capsys.readouterr().err
    assert "nested far too deeply" in error and "Traceback" not in error
