"""What every compensation (undo) activity takes and returns."""

from __future__ import annotations

from pydantic import BaseModel, model_validator

from domain.wording import Wording


class UndoRequest(BaseModel):
    """Input of the order's compensation activities: which order, and why it is undone."""

    order_id: str
    reason: str
    """Recorded with the undo (on a credit note, in the audit log)."""


class Undone(BaseModel):
    """The result of a compensation: what it undid, or that there was nothing to undo."""

    detail: str = ""
    """What was undone, in English (``wording.english()``)."""
    wording: Wording | None = None
    """The same as a catalogue message, read in each reader's language."""

    @model_validator(mode="after")
    def _detail_in_english(self) -> Undone:
        """Given only a wording, ``detail`` is its English sentence."""
        if self.wording is not None and not self.detail:
            self.detail = self.wording.english()
        return self
