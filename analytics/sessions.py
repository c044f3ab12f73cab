"""Remembered sign-ins for local accounts: signed, expiring session tokens.

A local sign-in is kept in the browser as a cookie holding a token signed with a key of this
warehouse (`_auth/session.key`, created on first use, mode 0600), so that reloading the page
or opening another tab does not ask for the password again. A token names the user and when
they signed in, and is refused when:

- its signature does not match (tampered, or from another warehouse);
- it is older than the session length (`TOUCHPOINT_SESSION_MINUTES`);
- the account was removed, or its password changed since (a fingerprint of the password
  hash is signed in);
- the user has signed out since it was issued: signing out signs that user out in every
  browser (each sign-out starts a new generation of the user's tokens).

The role and row limits are read from the accounts file at every use, never from the token.
Signing and timestamps are `itsdangerous`'s.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from analytics.accounts import (
    Account,
    AccountStore,
    _file_lock,
    _write_atomically,
    session_expired,
)

COOKIE = "touchpoint_session"
KEY_FILE = "session.key"
GENERATIONS_FILE = "session_generations.json"
_SALT = "touchpoint.session"


class SessionSigner:
    """Issues and checks session tokens with the key kept in `state_dir`.

    Parameters
    ----------
    state_dir : Path
        Folder for the signing key and the sign-out times (the warehouse's `_auth/`).
    """

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)

    def issue(self, account: Account, now: datetime) -> str:
        """A token saying `account` signed in at `now`."""
        payload = {
            "u": account.name,
            "f": _fingerprint(account),
            "g": self._generations().get(account.name.lower(), 0),
        }
        return self._serializer(now).dumps(payload)

    def verify(
        self, token: str, store: AccountStore, *, now: datetime, minutes: int
    ) -> tuple[Account, datetime] | None:
        """The account a valid token names and when it signed in; None for any other token."""
        try:
            payload, issued = self._serializer(now).loads(
                token, max_age=minutes * 60, return_timestamp=True
            )
        except (BadSignature, SignatureExpired):
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("u"), str):
            return None
        account = store.get(payload["u"])
        if account is None or payload.get("f") != _fingerprint(account):
            return None
        if payload.get("g") != self._generations().get(account.name.lower(), 0):
            return None  # signed out since
        if session_expired(issued, now, minutes):
            return None
        return account, issued

    def sign_out(self, name: str) -> None:
        """Refuse every token of `name` issued so far (in all its browsers)."""
        path = self.state_dir / GENERATIONS_FILE
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with _file_lock(path):
            generations = self._generations()
            generations[name.lower()] = generations.get(name.lower(), 0) + 1
            _write_atomically(path, json.dumps(generations).encode("utf-8"))

    def _generations(self) -> dict[str, int]:
        try:
            found = json.loads((self.state_dir / GENERATIONS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return found if isinstance(found, dict) else {}

    def _serializer(self, now: datetime) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(
            self._key(),
            salt=_SALT,
            signer=_ClockedSigner,
            signer_kwargs={"now": int(now.timestamp())},
        )

    def _key(self) -> bytes:
        """The signing key, created once (atomically: concurrent first uses agree on it)."""
        path = self.state_dir / KEY_FILE
        if not path.exists():
            self.state_dir.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=self.state_dir, prefix=".session.", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(secrets.token_bytes(32))
                with contextlib.suppress(FileExistsError):  # another process created it first
                    os.link(temp, path)
            finally:
                Path(temp).unlink(missing_ok=True)
        return path.read_bytes()


class _ClockedSigner(TimestampSigner):
    """itsdangerous's signer on a given clock, so that the session length can be tested."""

    def __init__(self, *args: Any, now: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._now = now

    def get_timestamp(self) -> int:
        return self._now


def _fingerprint(account: Account) -> str:
    return hashlib.sha256(account.password_hash.encode("utf-8")).hexdigest()[:16]
