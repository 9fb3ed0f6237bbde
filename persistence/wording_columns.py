"""Wordings kept in JSON columns beside the English text they word (the reviews' reasons
and details): written as plain JSON, read back as :class:`domain.wording.Wording`; a row
written before its wording was kept reads None, and its English text is shown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.wording import Wording


def wording_json(wording: Wording | None) -> dict[str, Any] | None:
    """A wording as the JSON its column keeps (None stays None)."""
    return None if wording is None else wording.model_dump(mode="json", exclude_defaults=True)


def wordings_json(wordings: Sequence[Wording]) -> list[dict[str, Any]] | None:
    """Wordings as the JSON list their column keeps (none: None, the English text only)."""
    return [wording.model_dump(mode="json", exclude_defaults=True) for wording in wordings] or None


def wording_of(stored: dict[str, Any] | None) -> Wording | None:
    """The wording a column keeps; None when it keeps none."""
    return None if stored is None else Wording.model_validate(stored)


def wordings_of(stored: list[dict[str, Any]] | None) -> list[Wording] | None:
    """The wordings a column keeps; None when it keeps none."""
    return None if stored is None else [Wording.model_validate(one) for one in stored]
