"""What every compensation (undo) activity takes and returns."""

from __future__ import annotations

from pydantic import BaseModel


class UndoRequest(BaseModel):
    """Input of the order's compensation activities: which order, and why it is undone."""

    order_id: str
    reason: str
    """Recorded with the undo (on a credit note, in the audit log)."""


class Undone(BaseModel):
    """The result of a compensation: what it undid, or that there was nothing to undo."""

    detail: str
