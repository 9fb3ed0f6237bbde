"""What every compensation (undo) activity returns."""

from __future__ import annotations

from pydantic import BaseModel


class Undone(BaseModel):
    """The result of a compensation: what it undid, or that there was nothing to undo."""

    detail: str
