"""``[security]`` and TLS in the appliance config: checked key by key, wired into the server."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.cli import main
from appliance.config import ConfigError, all_tokens, loads_config
from appliance.service import build_appliance
from hardware import select_backend
from tests.support import started

TOKEN = "Zm9vYmFyLWJhei1xdXV4LTEyMzQ1Njc4"


def test_the_defaults_are_open_and_plain() -> None:
    config = loads_config("")
    assert config.security.allowed_origins == [] and config.security.tokens == []
    assert config.security.tokens_file == "" and config.security.trusted_proxies == []
    assert (config.server.certfile, config.server.keyfile) == ("", "")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[security]\nallowed_origins = ["*"]', "security.allowed_origins"),
        ('[security]\nallowed_origins = ["gateway.local"]', "security.allowed_origins"),
        ('[security]\nallowed_origins = ["http://gw.local/path"]', "security.allowed_origins"),
        ('[security]\ntokens = ["short"]', "security.tokens"),
        ('[security]\ntokens = ["has spaces in it, sixteen+"]', "security.tokens"),
        ("[security]\ntokens = 'one-token-only-12345'", "security.tokens"),
        ('[security]\ntrusted_proxies = ["proxy.local"]', "security.trusted_proxies"),
        ('[security]\nallowed_hosts = ["bad host"]', "security.allowed_hosts"),
        ('[server]\ncertfile = "/etc/ssl/cert.pem"', "server.certfile"),
        ("[security]\ntoken = 'x'", "security.token"),
    ],
)
def test_invalid_security_settings_name_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        loads_config(text, "my.toml")
    assert f"`{key}`" in str(info.value), info.value


def test_a_rejected_token_is_never_shown() -> None:
    with pytest.raises(ConfigError) as info:
        loads_config('[security]\ntokens = ["secret but short"]')
    assert "secret" not in str(info.value)
    config = loads_config(f'[security]\ntokens = ["{TOKEN}"]')
    assert TOKEN not in repr(config) and TOKEN not in str(config)


def test_any_origin_with_tokens_is_accepted(tmp_path: Path) -> None:
    loads_config(f'[security]\nallowed_origins = ["*"]\ntokens = ["{TOKEN}"]')
    tokens_file = tmp_path / "tokens"
    tokens_file.write_text(f"# the gateway\n{TOKEN}\n\nsecond-token-abcdefgh  # my phone\n")
    config = loads_config(f'[security]\nallowed_origins = ["*"]\ntokens_file = "{tokens_file}"')
    assert all_tokens(config) == [TOKEN, "second-token-abcdefgh"]


def test_a_bad_tokens_file_is_refused_by_check_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "appliance.toml"
    config.write_text(f'[security]\ntokens_file = "{tmp_path / "missing"}"\n')
    assert main(["check-config", "--config", str(config)]) == 1
    assert "security.tokens_file" in capsys.readouterr().err
    (tmp_path / "missing").write_text("too-short\n")
    assert main(["check-config", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "token 1" in err and "too-short" not in err


def test_appliance_token_prints_a_usable_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["token"]) == 0
    token = capsys.readouterr().out.strip()
    loads_config(f'[security]\ntokens = ["{token}"]')  # accepted as it is printed
    assert main(["token"]) == 0
    assert capsys.readouterr().out.strip() != token


async def test_the_appliance_serves_with_its_security_settings(tmp_path: Path) -> None:
    config = loads_config(
        f"""
[security]
tokens = ["{TOKEN}"]
allowed_origins = ["http://gateway.local:8080"]
[state]
dir = "{tmp_path}"
[discovery]
enabled = false
"""
    )
    appliance = build_appliance(config, select_backend("simulated"))
    try:
        async with started(appliance.server.create()) as client:
            host = {"Host": "localhost"}
            assert (await client.get("/0/properties", headers=host)).status_code == 401
            bearer = {**host, "Authorization": f"Bearer {TOKEN}"}
            assert (await client.get("/0/properties", headers=bearer)).status_code == 200
            td = await (
                await client.get("/0", headers={**host, "Accept": "application/json"})
            ).get_json()
            assert td["security"] == "bearer_sc"
            gateway = {**bearer, "Origin": "http://gateway.local:8080"}
            response = await client.put("/0/properties/on", json={"on": False}, headers=gateway)
            assert response.status_code == 200
            assert response.headers["access-control-allow-origin"] == "http://gateway.local:8080"
            evil = {**bearer, "Origin": "https://evil.example"}
            response = await client.put("/0/properties/on", json={"on": True}, headers=evil)
            assert response.status_code == 403
    finally:
        appliance.close_hardware()


def test_tls_settings_reach_the_server(tmp_path: Path) -> None:
    config = loads_config(
        f'[server]\ncertfile = "/c.pem"\nkeyfile = "/k.pem"\n[state]\ndir = "{tmp_path}"'
    )
    appliance = build_appliance(config, select_backend("simulated"))
    try:
        assert appliance.server.tls
        assert appliance.url.startswith("https://")
        hypercorn = appliance.server.hypercorn_config()
        assert (hypercorn.certfile, hypercorn.keyfile) == ("/c.pem", "/k.pem")
    finally:
        appliance.close_hardware()
