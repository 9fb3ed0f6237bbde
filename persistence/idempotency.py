"""Run a step's effect at most once, keyed by order and step.

The key and the step's result are written in the same transaction as the
effect, so a retried activity either finds the key (and returns the stored
result, changing nothing) or finds no trace of an earlier attempt.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from persistence.database import Database
from persistence.models import IdempotencyKey, table_of

ResultT = TypeVar("ResultT", bound=BaseModel)

# Every step runs both: built once, with the key and result as parameters.
_KEYS = table_of(IdempotencyKey)
_SELECT_RESULT = select(_KEYS.c.result).where(_KEYS.c.key == bindparam("key"))
_INSERT_KEY = insert(_KEYS)

Effect = Callable[[Session], ResultT]


class Done(BaseModel):
    """Stored result of a step that returns nothing but the fact it happened."""


def step_key(order_id: str, step: str) -> str:
    """The idempotency key of ``step`` for ``order_id``."""
    return f"{order_id}:{step}"


def run_once(
    db: Database, key: str, result_type: type[ResultT], effect: Effect[ResultT]
) -> ResultT:
    """Run ``effect`` in a transaction unless ``key`` was already recorded.

    Returns the effect's result, or the stored result of the run that recorded
    ``key``. Two racing first runs cannot both commit: the key is a primary
    key, so the loser rolls back and reads the winner's result.
    """
    try:
        with db.transaction() as session:
            stored = _stored(session, key)
            if stored is not None:
                return result_type.model_validate_json(stored)
            result = effect(session)
            store_result(session, key, result)
    except IntegrityError:
        with db.reading() as session:
            stored = _stored(session, key)
            if stored is None:
                raise
            return result_type.model_validate_json(stored)
    return result


def store_result(session: Session, key: str, result: BaseModel) -> None:
    """Record ``key`` with ``result`` in the session's transaction (fails if it exists)."""
    session.execute(
        _INSERT_KEY,
        {"key": key, "result": result.model_dump_json(), "created_at": datetime.now(UTC)},
    )


def stored_result(db: Database, key: str, result_type: type[ResultT]) -> ResultT | None:
    """The stored result of ``key``, or None if that step has not taken effect yet.

    Lets a step that calls a partner skip the call when it already took effect.
    """
    with db.reading() as session:
        return stored_result_in(session, key, result_type)


def stored_result_in(session: Session, key: str, result_type: type[ResultT]) -> ResultT | None:
    """As :func:`stored_result`, inside the caller's transaction."""
    stored = _stored(session, key)
    return None if stored is None else result_type.model_validate_json(stored)


def _stored(session: Session, key: str) -> str | None:
    """The stored result of ``key`` as JSON (a plain query: no ORM object is built)."""
    stored: str | None = session.scalar(_SELECT_RESULT, {"key": key})
    return stored
