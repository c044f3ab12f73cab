"""Local accounts for teams without an identity provider: users, roles, passwords, lock-out.

Accounts live in one TOML file (`TOUCHPOINT_ACCOUNTS`, written by `python -m analytics users`)::

    [users."ada@example.com"]
    role = "admin"
    password_hash = "scrypt$32768$8$1$<salt>$<hash>"

Passwords are stored only as scrypt hashes and checked in constant time. `SignInGuard` counts
failed sign-ins per user name and locks a name out for a while after too many; its messages
never say whether a user exists. User names are matched case-insensitively.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import math
import os
import re
import tempfile
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast

import tomli_w

from analytics.errors import ConfigError, TouchpointError
from analytics.filters import LIMITABLE
from analytics.warehouse import Access

Role = Literal["viewer", "analyst", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "analyst", "admin")

# Capability -> the lowest role that has it; every role has what the roles below it have.
CAPABILITIES: dict[str, Role] = {
    "dashboards": "viewer",
    "export_aggregates": "viewer",
    "data": "analyst",
    "export_customers": "analyst",
    "rollback": "analyst",
    "admin": "admin",
}

MIN_PASSWORD_LENGTH = 12
_NAME_PATTERN = re.compile(r"[A-Za-z0-9._@-]{1,64}", re.ASCII)

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_DKLEN = 2**15, 8, 1, 64
_SCRYPT_MAXMEM = 64 * 1024 * 1024
_SALT_BYTES = 16

# Checked against when the user does not exist, so a wrong name costs as long as a wrong
# password and timing does not reveal who has an account (no password hashes to all zeros).
_DUMMY_HASH = "$".join(
    [
        "scrypt",
        str(_SCRYPT_N),
        str(_SCRYPT_R),
        str(_SCRYPT_P),
        base64.b64encode(bytes(_SALT_BYTES)).decode("ascii"),
        base64.b64encode(bytes(_SCRYPT_DKLEN)).decode("ascii"),
    ]
)


class AuthError(TouchpointError):
    """A sign-in was refused; the message never says whether the user exists."""


@dataclass(frozen=True)
class Account:
    """One local user: a name, a role and the scrypt hash of the password.

    Parameters
    ----------
    name : str
        User name as it was added (letters, digits, ``.``, ``_``, ``-``, ``@``).
    role : {"viewer", "analyst", "admin"}
        What the user may do; see `CAPABILITIES`.
    password_hash : str
        Encoded scrypt hash from `hash_password` (left out of ``repr``).
    limits : tuple of (column, values)
        Row-level access: the user sees only rows with one of the values (customer attributes
        narrow every dataset through the customer). Empty: no limit.
    """

    name: str
    role: Role
    password_hash: str = field(repr=False)
    limits: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def access(self, *, min_group: int = 0) -> Access:
        """What this user may read: the row limits; for viewers, personal data masked and
        values from fewer than `min_group` customers, responses or tickets hidden."""
        viewer = self.role == "viewer"
        return Access(limits=self.limits, mask_pii=viewer, min_group=min_group if viewer else 0)

    def can(self, capability: str) -> bool:
        """Whether this account's role has `capability` (a key of `CAPABILITIES`).

        Raises
        ------
        KeyError
            For a capability that is not in `CAPABILITIES` (a bug in the caller).
        """
        if capability not in CAPABILITIES:
            raise KeyError(f"Unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}.")
        return ROLES.index(self.role) >= ROLES.index(CAPABILITIES[capability])


# ----- validation -------------------------------------------------------------------------------


def check_name(name: str) -> str:
    """Return `name` if it is a valid user name, else raise `ConfigError` naming the rule."""
    if not _NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            "A user name must be 1 to 64 characters of letters, digits, '.', '_', '-' or '@'. "
            f"Got {name!r} instead."
        )
    return name


def check_role(role: str) -> Role:
    """Return `role` as a `Role` if it is one of `ROLES`, else raise `ConfigError`."""
    if role not in ROLES:
        raise ConfigError(f"The role must be one of {', '.join(ROLES)}. Got {role!r} instead.")
    return cast(Role, role)


def check_password(password: str) -> None:
    """Raise `ConfigError` unless `password` has at least `MIN_PASSWORD_LENGTH` characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters; "
            f"this one has {len(password)}."
        )


# ----- password hashes --------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """Hash `password` with scrypt and a fresh random salt.

    Parameters
    ----------
    password : str
        The password in clear text.

    Returns
    -------
    str
        ``"scrypt$32768$8$1$<salt base64>$<hash base64>"``: the parameters travel with the
        hash, so they can be raised later without invalidating existing passwords.
    """
    salt = os.urandom(_SALT_BYTES)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_DKLEN)
    return "$".join(
        [
            "scrypt",
            str(_SCRYPT_N),
            str(_SCRYPT_R),
            str(_SCRYPT_P),
            base64.b64encode(salt).decode("ascii"),
            base64.b64encode(digest).decode("ascii"),
        ]
    )


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` matches the `encoded` hash, compared in constant time.

    Parameters
    ----------
    password : str
        The password in clear text.
    encoded : str
        A hash from `hash_password`.

    Returns
    -------
    bool
        False for a wrong password and for a malformed or unsupported hash; never raises.
    """
    try:
        scheme, n_text, r_text, p_text, salt_text, digest_text = encoded.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt = base64.b64decode(salt_text, validate=True)
        expected = base64.b64decode(digest_text, validate=True)
        # Bounds keep a tampered file from making one check take minutes.
        if (
            scheme != "scrypt"
            or not (2 <= n <= 2**20 and n & (n - 1) == 0)
            or not (1 <= r <= 32 and 1 <= p <= 16)
            or not salt
            or not (16 <= len(expected) <= 128)
        ):
            return False
        actual = _scrypt(password, salt, n, r, p, len(expected))
    except (ValueError, TypeError, AttributeError):
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=_SCRYPT_MAXMEM
    )


def _check_limits(limits: Mapping[str, Sequence[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Limits as stored: columns from the filter dimensions, each with at least one value."""
    checked = []
    for column, values in sorted(limits.items()):
        if column not in LIMITABLE:
            raise ConfigError(
                f"Access can be limited by {', '.join(LIMITABLE)}. Got {column!r} instead."
            )
        kept = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
        if not kept:
            raise ConfigError(f"The limit on {column} needs at least one value.")
        checked.append((column, kept))
    return tuple(checked)


# ----- the accounts file ------------------------------------------------------------------------


class AccountStore:
    """The accounts file: read on every call, rewritten atomically under a file lock.

    Parameters
    ----------
    path : Path
        The TOML file (created with mode 0600, its folder if missing, on the first `add`).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def configured(self) -> bool:
        """Whether the file exists and holds at least one account.

        A file that exists but cannot be read raises `ConfigError` rather than returning
        False, so a damaged file never silently turns sign-in off.
        """
        return bool(self.accounts())

    def accounts(self) -> list[Account]:
        """Every account, sorted by name."""
        users = self._users(self._read())
        return sorted(
            (self._account(name, entry) for name, entry in users.items()),
            key=lambda a: (a.name.lower(), a.name),
        )

    def get(self, name: str) -> Account | None:
        """The account called `name` (case-insensitive), or None."""
        users = self._users(self._read())
        key = _find(users, name)
        return None if key is None else self._account(key, users[key])

    def add(self, name: str, role: str, password: str) -> Account:
        """Add an account; raise `ConfigError` for an invalid input or an existing name."""
        checked_role = check_role(role)
        self.check_new_name(name)
        check_password(password)
        account = Account(name, checked_role, hash_password(password))
        with self._editing() as users:
            self._check_unused(users, name)
            users[name] = {"role": account.role, "password_hash": account.password_hash}
        return account

    def check_new_name(self, name: str) -> None:
        """Raise `ConfigError` unless `name` is a valid user name that is not taken yet."""
        check_name(name)
        self._check_unused(self._users(self._read()), name)

    def require(self, name: str) -> Account:
        """The account called `name` (case-insensitive); `ConfigError` if there is none."""
        users = self._users(self._read())
        key = self._existing(users, name)
        return self._account(key, users[key])

    def set_password(self, name: str, password: str) -> None:
        """Replace the password of `name`; raise `ConfigError` if there is no such user."""
        check_password(password)
        password_hash = hash_password(password)
        with self._editing() as users:
            users[self._existing(users, name)]["password_hash"] = password_hash

    def set_role(self, name: str, role: str) -> None:
        """Give `name` another role; raise `ConfigError` if there is no such user."""
        checked_role = check_role(role)
        with self._editing() as users:
            users[self._existing(users, name)]["role"] = checked_role

    def set_limits(self, name: str, limits: Mapping[str, Sequence[str]]) -> None:
        """Limit what `name` may read to rows with these values (empty mapping: no limit)."""
        checked = _check_limits(limits)
        with self._editing() as users:
            entry = users[self._existing(users, name)]
            if checked:
                entry["limits"] = {column: list(values) for column, values in checked}
            else:
                entry.pop("limits", None)

    def remove(self, name: str) -> None:
        """Remove `name`; raise `ConfigError` if there is no such user."""
        with self._editing() as users:
            del users[self._existing(users, name)]

    def _read(self) -> dict[str, Any]:
        try:
            with self.path.open("rb") as f:
                return tomllib.load(f)
        except FileNotFoundError:
            return {}
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"The accounts file {self.path} cannot be read ({exc}). Fix or remove it, then "
                "add users with `python -m analytics users add`."
            ) from None

    def _users(self, document: dict[str, Any]) -> dict[str, Any]:
        users = document.get("users", {})
        if not isinstance(users, dict) or not all(isinstance(e, dict) for e in users.values()):
            raise ConfigError(
                f"The accounts file {self.path} must hold [users.<name>] tables with a role and "
                "a password_hash. Fix or remove it."
            )
        return users

    def _account(self, name: str, entry: dict[str, Any]) -> Account:
        role, password_hash = entry.get("role"), entry.get("password_hash")
        if role not in ROLES or not isinstance(password_hash, str):
            raise ConfigError(
                f"The account {name!r} in {self.path} needs a role (one of {', '.join(ROLES)}) "
                f"and a password_hash. Got role {role!r}. Set them with `python -m analytics "
                "users role` and `users passwd`."
            )
        raw_limits = entry.get("limits", {})
        if not isinstance(raw_limits, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in raw_limits.values()
        ):
            raise ConfigError(
                f"The limits of {name!r} in {self.path} must map columns to lists of values; "
                "set them with `python -m analytics users limit`."
            )
        return Account(name, cast(Role, role), password_hash, _check_limits(raw_limits))

    def _check_unused(self, users: dict[str, Any], name: str) -> None:
        if _find(users, name) is not None:
            raise ConfigError(
                f"A user called {name!r} already exists in {self.path}; change it with "
                "`python -m analytics users passwd` or `users role`."
            )

    def _existing(self, users: dict[str, Any], name: str) -> str:
        key = _find(users, name)
        if key is None:
            raise ConfigError(
                f"There is no user called {name!r} in {self.path}; "
                "`python -m analytics users list` shows who there is."
            )
        return key

    @contextmanager
    def _editing(self) -> Iterator[dict[str, Any]]:
        """Yield the users table for changes; write it back atomically if no error occurred."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _file_lock(self.path):
            document = self._read()
            users = self._users(document)
            document["users"] = users
            yield users
            _write_atomically(self.path, tomli_w.dumps(document).encode("utf-8"))


def _find(users: dict[str, Any], name: str) -> str | None:
    wanted = name.lower()
    return next((key for key in users if key.lower() == wanted), None)


# ----- sign-in ----------------------------------------------------------------------------------


class SignInGuard:
    """Checks passwords and locks a user name out after too many failed sign-ins.

    Failures are counted per user name (lower-case), whether or not the user exists, in a
    JSON file under `state_dir` that several processes can share.

    Parameters
    ----------
    state_dir : Path
        Folder for the failure counts (created if missing).
    max_failures : int
        Failed sign-ins within `window_minutes` that lock a name.
    window_minutes : int
        How far back failures count.
    lock_minutes : int
        How long a locked name stays locked.
    """

    STATE_FILE = "signin_failures.json"

    def __init__(
        self,
        state_dir: Path,
        *,
        max_failures: int = 5,
        window_minutes: int = 15,
        lock_minutes: int = 15,
    ) -> None:
        self.state_dir = Path(state_dir)
        self.max_failures = max_failures
        self.window_minutes = window_minutes
        self.lock_minutes = lock_minutes

    def authenticate(
        self, store: AccountStore, name: str, password: str, *, now: datetime
    ) -> Account:
        """Return the account if `password` is right for `name`, else raise `AuthError`.

        Parameters
        ----------
        store : AccountStore
            Where the accounts are.
        name, password : str
            What the person typed.
        now : datetime
            The current time (passed in so tests can move it).

        Raises
        ------
        AuthError
            "Wrong user name or password." for a wrong password or an unknown user, or, while
            the name is locked out, a message saying when to try again (the password is then
            not checked at all).
        """
        # Longer names cannot exist; sharing one counter keeps the state file small.
        key = name.lower()[:65]
        # The attempt counts as a failure before the (slow) check, so attempts made in
        # parallel cannot slip past the limit; a success then clears it.
        self._record_attempt(key, now.timestamp())
        account = store.get(name)
        if account is None:
            verify_password(password, _DUMMY_HASH)
            raise AuthError("Wrong user name or password.")
        if not verify_password(password, account.password_hash):
            raise AuthError("Wrong user name or password.")
        with self._state() as state:
            state.pop(key, None)
        return account

    def _record_attempt(self, key: str, now: float) -> None:
        window, lock = self.window_minutes * 60, self.lock_minutes * 60
        with self._state() as state:
            for other in list(state):  # forget what no longer matters, so the file stays small
                entry = state[other]
                if entry.get("locked_until", 0) <= now and all(
                    t <= now - window for t in entry.get("failures", [])
                ):
                    del state[other]
            entry = state.setdefault(key, {"failures": []})
            locked_until = entry.get("locked_until", 0)
            if locked_until > now:
                minutes = max(1, math.ceil((locked_until - now) / 60))
                unit = "minute" if minutes == 1 else "minutes"
                raise AuthError(
                    f"Too many failed sign-ins for this name; try again in {minutes} {unit}."
                )
            failures = [t for t in entry.get("failures", []) if t > now - window] + [now]
            if len(failures) >= self.max_failures:
                state[key] = {"failures": [], "locked_until": now + lock}
            else:
                state[key] = {"failures": failures}

    @contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        """Yield the failure counts for changes; written back atomically, even on AuthError."""
        path = self.state_dir / self.STATE_FILE
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with _file_lock(path):
            try:
                state = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                state = {}  # missing or damaged: start counting afresh
            if not isinstance(state, dict):
                state = {}
            try:
                yield state
            finally:
                _write_atomically(path, json.dumps(state).encode("utf-8"))


def session_expired(signed_in_at: datetime, now: datetime, minutes: int) -> bool:
    """Whether a sign-in made at `signed_in_at` has lasted `minutes` or more by `now`."""
    return now - signed_in_at >= timedelta(minutes=minutes)


# ----- files ------------------------------------------------------------------------------------


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the sibling `<name>.lock` file (across threads and processes)."""
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` (mode 0600): readers see the old file or the new, never half."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


# ----- accounts from an identity provider (OIDC) -----------------------------------------------


def account_from_identity(
    claims: Mapping[str, object], config: Mapping[str, object]
) -> Account | None:
    """The account of a user signed in through the identity provider, or None (no role).

    Parameters
    ----------
    claims : mapping
        The identity token's claims (`st.user`): `email`, and the claims `config` names.
    config : mapping
        `[touchpoint.oidc]` of the secrets file: `role_claim` (a claim holding the role),
        `groups_claim` (a claim listing groups), `emails` and `groups` (tables mapping an
        email or a group to a role), `default_role`, and `limits` (email -> column -> values).
        The highest role any rule gives wins; with none, the user gets `default_role`, or no
        access at all when there is no default.
    """
    email = str(claims.get("email") or "").strip().lower()
    if not email:
        return None
    found: list[Role] = []
    role_claim = config.get("role_claim")
    if isinstance(role_claim, str) and claims.get(role_claim) in ROLES:
        found.append(cast(Role, claims[role_claim]))
    emails = {str(k).lower(): v for k, v in _table(config, "emails").items()}
    if emails.get(email) in ROLES:
        found.append(cast(Role, emails[email]))
    groups_claim = config.get("groups_claim")
    if isinstance(groups_claim, str):
        member_of = claims.get(groups_claim)
        by_group = _table(config, "groups")
        for group in member_of if isinstance(member_of, list) else []:
            if by_group.get(str(group)) in ROLES:
                found.append(cast(Role, by_group[str(group)]))
    default = config.get("default_role")
    if not found and default in ROLES:
        found.append(cast(Role, default))
    if not found:
        return None
    role = max(found, key=ROLES.index)
    limits_by_email = {str(k).lower(): v for k, v in _table(config, "limits").items()}
    raw_limits = limits_by_email.get(email, {})
    limits: tuple[tuple[str, tuple[str, ...]], ...] = ()
    if isinstance(raw_limits, Mapping):
        limits = _check_limits({str(c): [str(v) for v in vs] for c, vs in raw_limits.items()})
    return Account(email, role, "", limits)


def _table(config: Mapping[str, object], name: str) -> dict[str, object]:
    value = config.get(name, {})
    return dict(value) if isinstance(value, Mapping) else {}
