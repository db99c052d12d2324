"""A real Mosquitto for the MQTT tests, and a recording client to watch it.

The broker is Debian's ``mosquitto`` binary, run with a generated config on a free loopback
port; it can be stopped, restarted on the same port, paused (a broker that is up but slow),
and set up with TLS (certificates made by the ``openssl`` command) or with passwords
(``mosquitto_passwd``). Where mosquitto is missing the tests fail in CI (``CI`` set) and
are skipped, with the reason, elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import msgspec
import pytest

from tests.support import eventually, free_port

INSTALL_HINT = "apt-get install mosquitto"


def _tool(name: str, sbin: bool = False) -> str | None:
    found = shutil.which(name)
    if found is None and sbin and Path(f"/usr/sbin/{name}").exists():
        found = f"/usr/sbin/{name}"
    return found


def require(name: str, hint: str, sbin: bool = False) -> str:
    """The path of tool ``name``; without it, fail in CI and skip (loudly) elsewhere."""
    found = _tool(name, sbin)
    if found is None:
        message = f"{name} is missing ({hint}): the MQTT tests need a real broker"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@dataclass(frozen=True)
class Certificates:
    """A throwaway CA, a server certificate for localhost/127.0.0.1 and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_certificates(directory: Path) -> Certificates:
    """Generate the CA and both certificates with the openssl command (EC keys: fast)."""
    openssl = require("openssl", "apt-get install openssl")
    directory.mkdir(parents=True, exist_ok=True)

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=directory, check=True, capture_output=True)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=thingtalk test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    for name, usage, san in (
        ("server", "serverAuth", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
        ("client", "clientAuth", "subjectAltName=DNS:appliance"),
    ):
        run("req", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        (directory / f"{name}.ext").write_text(
            f"{san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
            f"extendedKeyUsage={usage}\n"
        )
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.crt", "-days", "2",
            "-extfile", f"{name}.ext")  # fmt: skip
    return Certificates(
        directory / "ca.crt",
        directory / "server.crt",
        directory / "server.key",
        directory / "client.crt",
        directory / "client.key",
    )


class Mosquitto:
    """One mosquitto process on 127.0.0.1; ``restart()`` brings it back on the same port."""

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        certificates: Certificates | None = None,
        require_client_certificate: bool = False,
        users: dict[str, str] | None = None,
    ) -> None:
        self.binary = require("mosquitto", INSTALL_HINT, sbin=True)
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.certificates = certificates
        self.users = users
        self.config = workdir / f"mosquitto-{self.port}.conf"
        self.log = workdir / f"mosquitto-{self.port}.log"
        lines = [f"listener {self.port} 127.0.0.1", "persistence false"]
        if os.geteuid() == 0:
            lines.append("user root")  # else it drops to `mosquitto`, who can't read tmp files
        if users is not None:
            passwords = workdir / f"passwords-{self.port}"
            passwords.write_text("")
            tool = require("mosquitto_passwd", INSTALL_HINT)
            for user, password in users.items():
                subprocess.run([tool, "-b", str(passwords), user, password], check=True)
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        else:
            lines.append("allow_anonymous true")
        if certificates is not None:
            lines += [
                f"cafile {certificates.ca}",
                f"certfile {certificates.server_cert}",
                f"keyfile {certificates.server_key}",
            ]
            if require_client_certificate:
                lines.append("require_certificate true")
        self.config.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The URL a bridge connects to."""
        if self.certificates is not None:
            return f"mqtts://localhost:{self.port}"
        return f"mqtt://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def start(self, within: float = 10.0) -> None:
        """Start and wait until the port accepts connections."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + within
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"mosquitto exited with {self.proc.returncode}:\n{self.output()}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.2),
            ):
                return
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"mosquitto did not listen within {within} s:\n{self.output()}"
                )
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop it (SIGTERM) and wait."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # in case it was paused
            self.proc.terminate()
            self.proc.wait(10)

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze it: connections stay open but nothing is read or acknowledged."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)


class Recorder:
    """A test client that records every message on its filters (retained ones included)."""

    def __init__(self, broker: Mosquitto, *filters: str, **options: Any) -> None:
        self.broker = broker
        self.filters = filters or ("#",)
        self.options = options
        self.messages: list[aiomqtt.Message] = []
        self.latest: dict[str, bytes] = {}
        self.client: aiomqtt.Client | None = None
        self._task: asyncio.Task[None] | None = None

    def payloads(self, topic: str) -> list[bytes]:
        """Every payload seen on ``topic``, in order."""
        return [bytes(m.payload) for m in self.messages if m.topic.value == topic]

    def json(self, topic: str) -> Any:
        """The latest payload on ``topic``, decoded (KeyError if none came)."""
        return msgspec.json.decode(self.latest[topic])

    def json_messages(self, topic: str) -> list[Any]:
        return [msgspec.json.decode(p) for p in self.payloads(topic)]

    async def wait_for(self, topic: str, payload: Any, within: float = 10.0) -> None:
        """Wait until the latest JSON payload on ``topic`` equals ``payload``."""
        await eventually(
            lambda: topic in self.latest and msgspec.json.decode(self.latest[topic]) == payload,
            within,
        )

    async def publish(
        self, topic: str, payload: Any, *, raw: bool = False, retain: bool = False
    ) -> None:
        assert self.client is not None
        data = payload if raw else msgspec.json.encode(payload)
        await self.client.publish(topic, data, qos=1, retain=retain)

    async def __aenter__(self) -> Recorder:
        self.client = aiomqtt.Client("127.0.0.1", self.broker.port, **self.options)
        await self.client.__aenter__()
        for topic in self.filters:
            await self.client.subscribe(topic, qos=1)
        self._task = asyncio.create_task(self._record())
        return self

    async def _record(self) -> None:
        assert self.client is not None
        async for message in self.client.messages:
            self.messages.append(message)
            self.latest[message.topic.value] = bytes(message.payload)

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.client is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await self.client.__aexit__(None, None, None)


@contextlib.asynccontextmanager
async def recording(broker: Mosquitto, *filters: str, **options: Any) -> AsyncIterator[Recorder]:
    """A :class:`Recorder` connected for the duration of the block."""
    async with Recorder(broker, *filters, **options) as recorder:
        yield recorder
