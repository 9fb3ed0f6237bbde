"""The simulated partners' own records: what each has done, kept durably, by idempotency key.

A real payment provider, carrier or message service keeps its own books, outside our database,
and honours idempotency keys the way their APIs document it: the same key gets
the same answer, and the effect (a charge, a booking, a delivered message) happens once, whichever
of our workers asks and however often. The simulators keep such books in a
SQLite file of their own (``<data dir>/simulated-partners.db`` on the embedded
default), so a worker that crashed and a worker that retries see one provider,
and a soak can prove from the provider's side that it charged and booked once (a test,
that it delivered each campaign message once).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS effects (
    partner TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    operation TEXT NOT NULL,
    answer TEXT NOT NULL,
    requests INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (partner, idempotency_key)
)
"""


@dataclass(frozen=True)
class Effect:
    """One thing a partner did: its answer, and how many requests asked for it."""

    partner: str
    idempotency_key: str
    operation: str
    answer: str
    requests: int
    detail: str = ""
    """What the partner noted beside its answer (the notifier: to whom it delivered)."""


class PartnerBooks:
    """A durable idempotency store shared by the simulated partners of every worker process.

    ``path`` None keeps the books in memory (one process, for unit tests).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._connection = sqlite3.connect(
            ":memory:" if path is None else path,
            timeout=30,
            isolation_level=None,
            check_same_thread=False,
        )
        if path is not None:
            self._connection.execute("PRAGMA journal_mode=wal")
        self._connection.execute(_SCHEMA)
        columns = {row[1] for row in self._connection.execute("PRAGMA table_info(effects)")}
        if "detail" not in columns:  # books kept before the notifier kept its own
            # Another worker opening the same books may add it first.
            with contextlib.suppress(sqlite3.OperationalError):
                self._connection.execute(
                    "ALTER TABLE effects ADD COLUMN detail TEXT NOT NULL DEFAULT ''"
                )

    async def once(
        self,
        partner: str,
        operation: str,
        idempotency_key: str,
        act: Callable[[], str],
        *,
        detail: str = "",
    ) -> str:
        """The answer ``partner`` gave to ``idempotency_key``; ``act()`` runs only the first
        time, and its answer is kept (with ``detail``). Repeats are counted."""
        return await asyncio.to_thread(self._once, partner, operation, idempotency_key, act, detail)

    def _once(
        self,
        partner: str,
        operation: str,
        idempotency_key: str,
        act: Callable[[], str],
        detail: str,
    ) -> str:
        with self._lock:
            connection = self._connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                known = connection.execute(
                    "SELECT answer FROM effects WHERE partner = ? AND idempotency_key = ?",
                    (partner, idempotency_key),
                ).fetchone()
                if known is not None:
                    connection.execute(
                        "UPDATE effects SET requests = requests + 1 "
                        "WHERE partner = ? AND idempotency_key = ?",
                        (partner, idempotency_key),
                    )
                    answer = str(known[0])
                else:
                    answer = act()
                    connection.execute(
                        "INSERT INTO effects (partner, idempotency_key, operation, answer, "
                        "requests, created_at, detail) VALUES (?, ?, ?, ?, 1, ?, ?)",
                        (
                            partner,
                            idempotency_key,
                            operation,
                            answer,
                            datetime.now(UTC).isoformat(),
                            detail,
                        ),
                    )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        return answer

    def effects(self, partner: str, operation: str | None = None) -> list[Effect]:
        """Everything ``partner`` did (of one ``operation``, if given), oldest first."""
        query = (
            "SELECT partner, idempotency_key, operation, answer, requests, detail "
            "FROM effects WHERE partner = ?"
        )
        arguments: tuple[str, ...] = (partner,)
        if operation is not None:
            query += " AND operation = ?"
            arguments += (operation,)
        with self._lock:
            rows = self._connection.execute(query + " ORDER BY created_at", arguments).fetchall()
        return [Effect(row[0], row[1], row[2], row[3], row[4], row[5]) for row in rows]

    def effects_per_order(self, partner: str, operation: str) -> Counter[str]:
        """How many times ``partner`` did ``operation`` for each order.

        Our steps' idempotency keys begin with the order id (``<order>:<step>``);
        a provider that acts once per key acts once per order and step.
        """
        return Counter(
            effect.idempotency_key.split(":", 1)[0] for effect in self.effects(partner, operation)
        )

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._connection.close()
