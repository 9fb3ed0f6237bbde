"""Run a step's effect at most once, keyed by order and step.

The key and the step's result are written in the same transaction as the
effect, so a retried activity either finds the key (and returns the stored
result, changing nothing) or finds no trace of an earlier attempt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.database import SessionFactory
from persistence.models import IdempotencyKey, table_of

ResultT = TypeVar("ResultT", bound=BaseModel)

# Every step runs both: built once, with the key and result as parameters.
_KEYS = table_of(IdempotencyKey)
_SELECT_RESULT = select(_KEYS.c.result).where(_KEYS.c.key == bindparam("key"))
_INSERT_KEY = insert(_KEYS)

Effect = Callable[[AsyncSession], Awaitable[ResultT]]


class Done(BaseModel):
    """Stored result of a step that returns nothing but the fact it happened."""


def step_key(order_id: str, step: str) -> str:
    """The idempotency key of ``step`` for ``order_id``."""
    return f"{order_id}:{step}"


async def run_once(
    sessions: SessionFactory, key: str, result_type: type[ResultT], effect: Effect[ResultT]
) -> ResultT:
    """Run ``effect`` in a transaction unless ``key`` was already recorded.

    Returns the effect's result, or the stored result of the run that recorded
    ``key``. Two racing first runs cannot both commit: the key is a primary
    key, so the loser rolls back and reads the winner's result.
    """
    try:
        async with sessions() as session, session.begin():
            stored = await _stored(session, key)
            if stored is not None:
                return result_type.model_validate_json(stored)
            result = await effect(session)
            await store_result(session, key, result)
    except IntegrityError:
        async with sessions() as session:
            stored = await _stored(session, key)
            if stored is None:
                raise
            return result_type.model_validate_json(stored)
    return result


async def store_result(session: AsyncSession, key: str, result: BaseModel) -> None:
    """Record ``key`` with ``result`` in the session's transaction (fails if it exists)."""
    await session.execute(
        _INSERT_KEY,
        {"key": key, "result": result.model_dump_json(), "created_at": datetime.now(UTC)},
    )


async def stored_result(
    sessions: SessionFactory, key: str, result_type: type[ResultT]
) -> ResultT | None:
    """The stored result of ``key``, or None if that step has not taken effect yet.

    Lets a step that calls a partner skip the call when it already took effect.
    """
    async with sessions() as session:
        return await stored_result_in(session, key, result_type)


async def stored_result_in(
    session: AsyncSession, key: str, result_type: type[ResultT]
) -> ResultT | None:
    """As :func:`stored_result`, inside the caller's transaction."""
    stored = await _stored(session, key)
    return None if stored is None else result_type.model_validate_json(stored)


async def _stored(session: AsyncSession, key: str) -> str | None:
    """The stored result of ``key`` as JSON (a plain query: no ORM object is built)."""
    stored: str | None = await session.scalar(_SELECT_RESULT, {"key": key})
    return stored
