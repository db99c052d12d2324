"""The reference lamp, locked with JSON Web Tokens that your own issuer signs.

``WebThingServer(..., verify_token=...)`` hands every bearer token a request carries to a
function of yours; here PyJWT (``pip install pyjwt``) checks its signature, expiry, audience
and issuer. Tokens travel as ``Authorization: Bearer <jwt>`` (or ``?jwt=`` on websockets, as
the WebThings gateway sends them).

    python examples/jwt_lamp.py --secret-file lamp.key --port 8888 --no-discovery
    python examples/jwt_lamp.py --secret-file lamp.key --issue alice     # prints a token

HS256 with a shared secret keeps the example short; an issuer that signs with a private key
(RS256, ES256) is checked the same way with its public key and ``algorithms=["ES256"]``.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt

from thingtalk import WebThingServer

try:  # run as a script (python examples/jwt_lamp.py) or as a module (-m examples...)
    from single_thing import Lamp
except ImportError:  # pragma: no cover
    from examples.single_thing import Lamp

AUDIENCE = "urn:dev:ops:my-lamp-1234"  # the lamp's id: a token for another thing won't do
ISSUER = "my-home"
ALGORITHMS = ["HS256"]  # never taken from the token itself


def verifier(secret: bytes) -> Callable[[str], bool]:
    """A ``verify_token`` that accepts JWTs this ``secret`` signed, for this lamp, unexpired."""

    def verify(token: str) -> bool:
        try:
            jwt.decode(
                token,
                secret,
                algorithms=ALGORITHMS,
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "aud", "iss", "sub"]},
            )
        except jwt.InvalidTokenError:
            return False
        return True

    return verify


def issue(secret: bytes, subject: str, lifetime: float = 30 * 86400) -> str:
    """A token for ``subject`` (a person, the gateway) valid for ``lifetime`` seconds."""
    now = int(time.time())
    claims = {
        "sub": subject,
        "aud": AUDIENCE,
        "iss": ISSUER,
        "iat": now,
        "exp": now + int(lifetime),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHMS[0])


def make_server(secret: bytes, **options: Any) -> WebThingServer:
    """The lamp, answering only requests with a valid JWT (the TDs and the page stay open)."""
    return WebThingServer(Lamp, verify_token=verifier(secret), **options)


def main() -> None:
    """Serve the locked lamp, or print a token with ``--issue SUBJECT``."""
    parser = argparse.ArgumentParser(description="Serve the reference lamp behind JWTs.")
    parser.add_argument("--secret-file", type=Path, required=True, help="the HS256 key (bytes)")
    parser.add_argument("--issue", metavar="SUBJECT", help="print a token for SUBJECT and exit")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: 0.0.0.0)")
    parser.add_argument("--port", type=int, default=8888, help="TCP port (default: 8888)")
    parser.add_argument("--no-discovery", action="store_true", help="do not advertise over mDNS")
    args = parser.parse_args()
    secret = args.secret_file.read_bytes().strip()
    if args.issue:
        print(issue(secret, args.issue))
        return
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    make_server(secret, host=args.host, port=args.port, discovery=not args.no_discovery).run()


if __name__ == "__main__":
    main()
