"""The ``appliance`` command: ``serve`` the lamp and sensor, or ``check-config``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from hardware import BACKEND_CHOICES, HardwareError

from . import __version__
from .config import (
    DEFAULT_CONFIG_PATH,
    LOG_LEVELS,
    Config,
    ConfigError,
    all_tokens,
    check_host,
    load_config,
    override,
)

log = logging.getLogger("appliance")

EPILOG = f"""\
examples:
  appliance serve --hardware simulated --port 8888 --state-dir .state
      a lamp and a sensor on this laptop: http://localhost:8888/0 and /1
  appliance serve --config /etc/appliance/appliance.toml
      what the Raspberry Pi image runs (GPIO when it is a Pi)
  appliance check-config --config my.toml
      exit 0 if the file is valid, else 1 and the key at fault
  appliance token
      print a new random bearer token for [security] tokens

The config file (TOML; default {DEFAULT_CONFIG_PATH}, where a missing file means the
defaults) has the sections [server] host, port, certfile, keyfile; [hardware]
backend; [lamp] pin, frequency, gamma; [sensor] model, pin, interval; [discovery]
enabled, interfaces, name, publish_addresses; [security] allowed_origins, tokens,
tokens_file, trusted_proxies, allowed_hosts; [state] dir; [mqtt] enabled, url,
username, password, password_file, client_id, base_topic, ca_file, cert_file,
key_file, protocol, keepalive, discovery, discovery_prefix; [limits] connection caps
and queue bounds; [logging] level. Options given here override the file.
"""


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 1-65535, got {port}")
    return port


def make_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``appliance`` command."""
    parser = argparse.ArgumentParser(
        prog="appliance",
        description="A Raspberry Pi web thing: a dimmable lamp and a humidity/temperature "
        "sensor, served over the Web of Things API and advertised over mDNS.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__} (thingtalk {__version__})"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    config_help = f"TOML config file (default: {DEFAULT_CONFIG_PATH}, if it exists)"
    serve = commands.add_parser(
        "serve",
        help="serve the lamp (/0) and the sensor (/1) until SIGTERM",
        description="Serve the lamp at /0 and the sensor at /1 until SIGINT or SIGTERM.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--config", type=Path, metavar="FILE", help=config_help)
    serve.add_argument("--host", metavar="H", help="address to listen on ([server] host; '::')")
    serve.add_argument("--port", type=_port, metavar="P", help="TCP port ([server] port; 8888)")
    serve.add_argument(
        "--hardware",
        choices=BACKEND_CHOICES,
        help="GPIO backend ([hardware] backend; auto = GPIO on a Pi, else simulated)",
    )
    serve.add_argument(
        "--state-dir", metavar="DIR", help="where the lamp's state is kept ([state] dir)"
    )
    serve.add_argument(
        "--no-discovery",
        action="store_true",
        help="do not advertise over mDNS ([discovery] enabled = false)",
    )
    serve.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        metavar="L",
        help=f"log level: {', '.join(LOG_LEVELS)} ([logging] level; INFO)",
    )

    check = commands.add_parser(
        "check-config",
        help="validate a config file: exit 0 if valid, else 1 naming the key",
        description="Validate a config file: exit 0 if valid, else print the key at fault "
        "and exit 1.",
    )
    check.add_argument("--config", type=Path, metavar="FILE", help=config_help)

    commands.add_parser(
        "token",
        help="print a new random bearer token (for [security] tokens or tokens_file)",
        description="Print a new random bearer token: 32 random bytes, URL-safe base64.",
    )
    return parser


def setup_logging(level: str) -> None:
    """Log to stderr, which systemd puts in the journal (so no timestamps of our own)."""
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True
    )


def check_config(path: Path | None) -> int:
    """``appliance check-config``: 0 if the file is valid, else 1 with the error on stderr."""
    if path is None and not DEFAULT_CONFIG_PATH.exists():
        print(f"no config file at {DEFAULT_CONFIG_PATH}: the defaults apply", file=sys.stderr)
        return 0
    try:
        config = load_config(path)
        check_host(config.server.host, str(path or DEFAULT_CONFIG_PATH))
        all_tokens(config)  # the tokens file must be readable and valid too
    except ConfigError as exc:
        print(f"appliance: invalid config: {exc}", file=sys.stderr)
        return 1
    print(f"{path or DEFAULT_CONFIG_PATH}: ok", file=sys.stderr)
    return 0


def serve_config(args: argparse.Namespace) -> Config:
    """The config file with the command line's options laid over it."""
    return override(
        load_config(args.config),
        server_host=args.host,
        server_port=args.port,
        hardware_backend=args.hardware,
        state_dir=args.state_dir,
        discovery_enabled=False if args.no_discovery else None,
        logging_level=args.log_level,
    )


def serve(args: argparse.Namespace) -> int:
    """``appliance serve``: run until SIGTERM; 0 on a clean stop."""
    from thingtalk.server import ListenError, loop_factory

    from .service import StateDirError, build_appliance
    from .service import serve as serve_appliance

    setup_logging(args.log_level or "INFO")
    try:
        config = serve_config(args)
    except ConfigError as exc:
        log.error("invalid config: %s", exc)
        return 1
    setup_logging(config.logging.level_name)
    try:
        all_tokens(config)
    except ConfigError as exc:
        log.error("invalid config: %s", exc)
        return 1
    try:
        appliance = build_appliance(config)
    except StateDirError as exc:
        log.error("%s", exc)
        return 1
    except ConfigError as exc:
        log.error("invalid config: %s", exc)
        return 1
    except (HardwareError, ValueError) as exc:
        log.error("cannot set up the hardware: %s", exc)
        return 1
    try:
        with asyncio.Runner(loop_factory=loop_factory()) as runner:  # uvloop when installed
            runner.run(serve_appliance(appliance))
    except ListenError as exc:  # the port is taken, the address is not ours, ...
        log.error("%s%s", exc, "; choose another with --port" if exc.in_use else "")
        return 2
    log.info("stopped")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``appliance`` console script."""
    args = make_parser().parse_args(argv)
    if args.command == "check-config":
        return check_config(args.config)
    if args.command == "token":
        print(secrets.token_urlsafe(32))
        return 0
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
