"""API keys for systems: made once and shown once, kept as a SHA-256, revocable.

A key is ``oms_`` and 40 random URL-safe characters. Being long and random it
needs no slow hash: SHA-256 of the whole key is stored, looked up by its first
characters (the prefix, shown in lists) and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from domain.access import USERNAME, ApiKeyView, SystemRole
from persistence.database import Database
from persistence.models import ApiKey

from .accounts import AccountError
from .records import utcnow

KEY_PREFIX = "oms_"
PREFIX_LENGTH = 12
"""Characters of a key (``oms_`` included) kept in the clear to find and name it."""


@dataclass(frozen=True)
class NewApiKey:
    """A key just made: the secret, to hand to the system now (it is not kept)."""

    key: str
    view: ApiKeyView


def create_api_key(db: Database, name: str, role: SystemRole, *, actor: str) -> NewApiKey:
    """Make a key named ``name`` for a system; its secret is returned here only."""
    if not USERNAME.fullmatch(name):
        raise AccountError(
            f"key name {name!r}: 2 to 64 characters, lower-case letters, digits, '.', '_' or "
            "'-', starting with a letter"
        )
    key = KEY_PREFIX + secrets.token_urlsafe(30)
    with db.transaction() as session:
        if session.scalar(select(ApiKey.id).where(ApiKey.name == name)):
            raise AccountError(f"an API key named {name!r} exists already")
        row = ApiKey(
            name=name,
            role=role.value,
            prefix=key[:PREFIX_LENGTH],
            secret_hash=_digest(key),
            created_at=utcnow(),
            created_by=actor,
        )
        session.add(row)
        session.flush()
        return NewApiKey(key=key, view=_view(row))


def list_api_keys(db: Database) -> list[ApiKeyView]:
    """Every key, by name, revoked ones included."""
    with db.reading() as session:
        return [_view(row) for row in session.scalars(select(ApiKey).order_by(ApiKey.name))]


def revoke_api_key(db: Database, name: str) -> None:
    """Revoke the key named ``name``: it opens nothing from now on."""
    with db.transaction() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.name == name))
        if row is None:
            raise AccountError(f"no API key named {name!r}")
        if row.revoked_at is None:
            row.revoked_at = utcnow()


def key_holder(db: Database, key: str) -> ApiKeyView | None:
    """The live key ``key`` is, marking it used now; None for an unknown or revoked key."""
    if not key.startswith(KEY_PREFIX) or len(key) < PREFIX_LENGTH:
        return None
    digest = _digest(key)
    with db.transaction() as session:
        for row in session.scalars(select(ApiKey).where(ApiKey.prefix == key[:PREFIX_LENGTH])):
            if row.revoked_at is None and hmac.compare_digest(row.secret_hash, digest):
                row.last_used_at = utcnow()
                return _view(row)
    return None


def _view(row: ApiKey) -> ApiKeyView:
    return ApiKeyView(
        name=row.name,
        role=SystemRole(row.role),
        prefix=row.prefix,
        created_at=row.created_at,
        created_by=row.created_by,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
