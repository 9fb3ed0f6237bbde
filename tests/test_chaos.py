"""Chaos switches; a batch of orders that ends properly while partners and database misbehave."""

from __future__ import annotations

import io
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from integrations.simulated_carrier import SimulatedCarrier
from integrations.simulated_payment import SimulatedPaymentGateway
from integrations.simulated_supply import simulated_supplier
from ops.demo import follow_orders, submit_demo_orders
from ops.histories import count_order_steps
from ops.submissions import DEMO_ENDS, demo_example
from persistence.database import Database
from persistence.invariants import check_database
from persistence.models import Customer, Payment
from runtime.chaos import Chaos, ChaosRates, Fault, InjectedFaultError, chaotic
from runtime.encryption import encrypted_data_converter
from runtime.settings import Settings
from runtime.workers import open_database, order_worker
from tests.conftest import TEST_KEY_RING

pytestmark = pytest.mark.devserver

ALWAYS_FAIL = ChaosRates(error=1.0)


class CountingGateway(SimulatedPaymentGateway):
    """The simulated gateway, counting the captures it performed."""

    def __init__(self) -> None:
        super().__init__()
        self.captures = 0

    async def capture(
        self, *, idempotency_key: str, authorisation: str, amount: Decimal, currency: str
    ) -> str:
        self.captures += 1
        return await super().capture(
            idempotency_key=idempotency_key,
            authorisation=authorisation,
            amount=amount,
            currency=currency,
        )


def test_rates_that_add_up_to_more_than_every_call_are_refused() -> None:
    with pytest.raises(ValidationError, match=r"error \+ timeout \+ slow is 1\.2"):
        ChaosRates(error=0.6, timeout=0.6)
    with pytest.raises(ValidationError, match="error"):
        ChaosRates(error=-0.1)


def test_chaos_switches_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMS_CHAOS_PARTNERS", '{"error": 0.1, "slow": 0.2, "slow_seconds": 0.5}')
    monkeypatch.setenv("OMS_CHAOS_SEED", "7")
    settings = Settings()
    assert settings.chaos_partners == ChaosRates(error=0.1, slow=0.2, slow_seconds=0.5)
    assert settings.chaos_partners.active
    assert not settings.chaos_database.active
    assert settings.chaos_seed == 7


def test_draws_follow_the_rates() -> None:
    chaos = Chaos(ChaosRates(error=0.2, timeout=0.1, slow=0.3), seed=1)
    draws = [chaos.draw() for _ in range(10_000)]
    share = {fault: draws.count(fault) / len(draws) for fault in Fault}
    assert share[Fault.FAIL_BEFORE] + share[Fault.FAIL_AFTER] == pytest.approx(0.2, abs=0.02)
    assert share[Fault.FAIL_BEFORE] == pytest.approx(0.1, abs=0.02)
    assert share[Fault.TIMEOUT] == pytest.approx(0.1, abs=0.02)
    assert share[Fault.SLOW] == pytest.approx(0.3, abs=0.02)
    assert sum(chaos.injected.values()) == sum(fault is not None for fault in draws)


async def test_a_partner_can_fail_before_or_after_acting() -> None:
    gateway = CountingGateway()
    flaky = chaotic(gateway, Chaos(ALWAYS_FAIL, seed=3))
    outcomes = []
    for attempt in range(20):
        with pytest.raises(InjectedFaultError) as failure:
            await flaky.capture(
                idempotency_key=f"k{attempt}",
                authorisation="auth",
                amount=Decimal("1.00"),
                currency="EUR",
            )
        outcomes.append(str(failure.value))
    acted = [o for o in outcomes if "acted but its answer was lost" in o]
    assert all("simulated-payments.capture" in o and "(injected)" in o for o in outcomes)
    assert 0 < len(acted) < 20
    assert gateway.captures == len(acted)


async def test_a_partner_can_time_out_or_answer_slowly() -> None:
    hanging = chaotic(simulated_supplier(), Chaos(ChaosRates(timeout=1.0, timeout_seconds=0.05)))
    with pytest.raises(TimeoutError, match=r"simulated-supplier\.cancel_order gave no answer"):
        await hanging.cancel_order(idempotency_key="k", reference="SIMPO-1")
    slow = chaotic(simulated_supplier(), Chaos(ChaosRates(slow=1.0, slow_seconds=0.2)))
    started = time.monotonic()
    assert await slow.cancel_order(idempotency_key="k", reference="SIMPO-1")
    assert time.monotonic() - started >= 0.2


def test_plain_attributes_of_a_partner_pass_through() -> None:
    carrier = chaotic(SimulatedCarrier(pushes_events=True), Chaos(ALWAYS_FAIL))
    assert (carrier.name, carrier.pushes_events) == ("simulated-carrier", True)


async def test_database_chaos_fails_statements_and_loses_the_transaction(
    db: Database, database_url: str
) -> None:
    settings = Settings(database_url=database_url, chaos_database=ALWAYS_FAIL)
    async with open_database(settings) as chaotic:
        with (
            pytest.raises(OperationalError, match="connection to the database lost"),
            chaotic.transaction() as session,
        ):
            session.execute(text("UPDATE customers SET credit_limit = 4242"))
    with db.reading() as session:
        changed = session.scalar(
            select(func.count()).select_from(Customer).where(Customer.credit_limit == 4242)
        )
    assert changed == 0


async def test_database_chaos_can_slow_statements_down(db: Database, database_url: str) -> None:
    slow = ChaosRates(slow=1.0, slow_seconds=0.1)
    async with open_database(Settings(database_url=database_url, chaos_database=slow)) as slowed:
        started = time.monotonic()
        with slowed.reading() as session:
            assert session.scalar(select(func.count()).select_from(Customer))
        assert time.monotonic() - started >= 0.1


CHAOTIC_PARTNERS = ChaosRates(
    error=0.15, timeout=0.05, slow=0.1, timeout_seconds=0.3, slow_seconds=0.2
)
CHAOTIC_DATABASE = ChaosRates(error=0.02, slow=0.02, slow_seconds=0.1)


@pytest.fixture
async def chaotic_pipeline(
    dev_server: WorkflowEnvironment, db: Database, database_url: str, tmp_path: Path
) -> AsyncIterator[Client]:
    """A worker whose partners and database misbehave at the chaos rates."""
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        carrier_sim_step_seconds=0.2,
        carrier_poll_seconds=0.05,
        chaos_partners=CHAOTIC_PARTNERS,
        chaos_database=CHAOTIC_DATABASE,
    )
    client = await Client.connect(
        dev_server.client.service_client.config.target_host,
        data_converter=encrypted_data_converter(TEST_KEY_RING),
    )
    async with (
        open_database(settings, threads=settings.worker_database_threads) as worker_db,
        order_worker(client, worker_db, settings),
    ):
        yield client


async def test_chaotic_batch_ends_in_proper_states_with_every_invariant_holding(
    chaotic_pipeline: Client, db: Database
) -> None:
    client = chaotic_pipeline
    cast = await submit_demo_orders(client, db)
    views = await follow_orders(db, cast.order_ids, Console(file=io.StringIO()), cast)
    # The same ends as without chaos: faults are retried, effects are not repeated.
    assert {demo_example(view.order_id): view.status for view in views} == DEMO_ENDS
    with db.reading() as session:
        assert check_database(session) == []
        captures = (
            session.execute(
                select(Payment.order_id, func.count())
                .where(Payment.kind == "capture")
                .group_by(Payment.order_id)
            )
        ).all()
    assert captures
    assert all(count == 1 for _, count in captures)
    # Retries are counted across order, supply and parcel workflows, remote and local steps.
    steps = await count_order_steps(client, cast.order_ids)
    assert steps.retried_activities > 0, "chaos injected no fault that made a step retry"
    # Failing and slow statements are retried inside their workflow tasks, never past them.
    assert steps.timed_out_workflow_tasks == 0, steps.workflow_task_timeouts_at
