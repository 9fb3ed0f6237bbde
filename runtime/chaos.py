"""Chaos switches: make the simulated partners and the database fail on purpose.

Off by default. With rates set (``OMS_CHAOS_PARTNERS``, ``OMS_CHAOS_DATABASE``)
a share of calls fails, hangs until a simulated timeout, or answers slowly, so
the soak and the chaos tests can show that retries, idempotency keys and
compensation turn an unreliable world into orders that end properly. Every
injected fault says it was injected, in its message and in the log.

Partners can fail *before* they act (the request was lost) or *after* (they
acted and the answer was lost): the second is the case idempotency keys exist
for. Database statements fail before they run; a transaction that loses one
is rolled back whole.
"""

from __future__ import annotations

import asyncio
import inspect
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any, Self, TypeVar, cast

import structlog
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

log = structlog.get_logger(__name__)

PartnerT = TypeVar("PartnerT")


class ChaosRates(BaseModel):
    """How often calls misbehave: each rate is a share of calls, from 0 to 1."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    error: float = Field(default=0.0, ge=0, le=1)
    """Calls that fail at once (for partners: half before acting, half after)."""
    timeout: float = Field(default=0.0, ge=0, le=1)
    """Calls that hang for ``timeout_seconds`` and then fail with a timeout."""
    slow: float = Field(default=0.0, ge=0, le=1)
    """Calls that answer, but only after ``slow_seconds``."""
    slow_seconds: float = Field(default=1.0, ge=0, le=60)
    timeout_seconds: float = Field(default=5.0, ge=0, le=60)

    @model_validator(mode="after")
    def _rates_fit_in_one(self) -> Self:
        total = self.error + self.timeout + self.slow
        if total > 1:
            raise ValueError(
                f"error + timeout + slow is {total:g}; together they must be at most 1"
            )
        return self

    @property
    def active(self) -> bool:
        """True when any call can misbehave."""
        return self.error + self.timeout + self.slow > 0


class Fault(StrEnum):
    """What chaos does to one call."""

    FAIL_BEFORE = "fail before acting"
    FAIL_AFTER = "fail after acting"
    TIMEOUT = "time out"
    SLOW = "answer slowly"


class InjectedFaultError(ConnectionError):
    """A failure injected by the chaos switches, not a real partner's or database's."""


class Chaos:
    """Draws a fault (or none) for each call at the configured rates, and counts them."""

    def __init__(self, rates: ChaosRates, seed: int | None = None) -> None:
        self.rates = rates
        self.injected: Counter[Fault] = Counter()
        self._random = random.Random(seed)
        self._lock = threading.Lock()  # database statements draw from the database's threads

    def draw(self) -> Fault | None:
        """The fault for the next call, or ``None`` for a normal call."""
        with self._lock:
            return self._draw()

    def _draw(self) -> Fault | None:
        roll = self._random.random()
        fault: Fault | None = None
        if roll < self.rates.error:
            fault = Fault.FAIL_BEFORE if self._random.random() < 0.5 else Fault.FAIL_AFTER
        elif roll < self.rates.error + self.rates.timeout:
            fault = Fault.TIMEOUT
        elif roll < self.rates.error + self.rates.timeout + self.rates.slow:
            fault = Fault.SLOW
        if fault is not None:
            self.injected[fault] += 1
        return fault


class _ChaoticPartner:
    """Wraps a partner: each coroutine method call first draws a fault."""

    def __init__(self, partner: object, chaos: Chaos) -> None:
        self._partner = partner
        self._chaos = chaos

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._partner, name)
        if not inspect.iscoroutinefunction(method):
            return method
        where = f"{getattr(self._partner, 'name', type(self._partner).__name__)}.{name}"
        return _with_faults(method, where, self._chaos)


def _with_faults(method: Callable[..., Any], where: str, chaos: Chaos) -> Callable[..., Any]:
    rates = chaos.rates

    async def call(*args: Any, **kwargs: Any) -> Any:
        fault = chaos.draw()
        if fault is not None:
            log.warning("chaos: injected fault", call=where, fault=fault.value)
        if fault is Fault.SLOW:
            await asyncio.sleep(rates.slow_seconds)
        elif fault is Fault.TIMEOUT:
            await asyncio.sleep(rates.timeout_seconds)
            raise TimeoutError(
                f"chaos: {where} gave no answer within {rates.timeout_seconds:g}s (injected)"
            )
        elif fault is Fault.FAIL_BEFORE:
            raise InjectedFaultError(f"chaos: {where} failed before acting (injected)")
        result = await method(*args, **kwargs)
        if fault is Fault.FAIL_AFTER:
            raise InjectedFaultError(f"chaos: {where} acted but its answer was lost (injected)")
        return result

    return call


def chaotic(partner: PartnerT, chaos: Chaos) -> PartnerT:
    """``partner`` with faults injected into its calls at the chaos rates."""
    return cast(PartnerT, _ChaoticPartner(partner, chaos))


def inject_database_chaos(engines: Iterable[Engine], chaos: Chaos) -> None:
    """Make statements on ``engines`` fail, hang or slow down at the chaos rates."""
    for engine in engines:
        _strike_statements(engine, chaos)


def _strike_statements(engine: Engine, chaos: Chaos) -> None:
    rates = chaos.rates

    @event.listens_for(engine, "before_cursor_execute")
    def _strike(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        fault = chaos.draw()
        if fault is None:
            return
        log.warning("chaos: injected fault", call="database", fault=fault.value)
        # Statements run on the database's threads: sleeping here holds the
        # transaction open, as a slow server would.
        if fault is Fault.SLOW:
            time.sleep(rates.slow_seconds)
            return
        if fault is Fault.TIMEOUT:
            time.sleep(rates.timeout_seconds)
            cause = InjectedFaultError(
                f"chaos: statement timed out after {rates.timeout_seconds:g}s (injected)"
            )
        else:
            cause = InjectedFaultError("chaos: connection to the database lost (injected)")
        raise OperationalError(statement, parameters, cause)
