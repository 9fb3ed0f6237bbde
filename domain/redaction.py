"""What of a partner's answer may be shown: secrets are cut out before text reaches a
rejection reason, an audit event or a log line.

A provider's error text can echo what it was given (a payment token, a card
number). Callers pass the secrets they sent; well-known shapes of secrets are
cut out too, in case the partner echoes one the caller did not know about.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"

SECRET_SHAPES = (
    re.compile(r"\b(?:tok|pm|card|src|ba)_[A-Za-z0-9_-]{4,}"),  # payment tokens: tok_..., pm_...
    re.compile(r"\b(?:\d[ -]?){12,18}\d\b"),  # card numbers: 13 to 19 digits, spaced or not
)
"""Shapes of secrets cut out wherever they appear."""


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with each of ``secrets`` and anything shaped like a secret replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    for shape in SECRET_SHAPES:
        text = shape.sub(REDACTED, text)
    return text
