"""The inventory review's steps and the replenishment orders' steps: adapters onto
:mod:`persistence.transactions.replenishment` and :mod:`persistence.transactions.alerts`,
with the forecast computed between the review's read and its write."""

from __future__ import annotations

from datetime import UTC, date, datetime

import structlog
from temporalio import activity

from domain.forecasting import forecast_demand, overall_accuracy
from domain.replenishment import (
    FORECAST_AND_PROPOSE,
    PLACE_REPLENISHMENT,
    RECEIVE_REPLENISHMENT,
    REVIEW_STOCK_ALERTS,
    ReplenishmentRequest,
    ReplenishmentRules,
    ReviewFindings,
    ReviewRequest,
    project,
    propose,
)
from domain.stock_alerts import AlertChanges, AlertRules
from domain.supply import SupplyArrival, SupplyBalance, SupplyKind, SupplyOrderPlaced
from integrations.ports import SupplyPartner
from persistence.database import Database
from persistence.idempotency import stored_result
from persistence.transactions import alerts, replenishment

log = structlog.get_logger(__name__)


def run_review(db: Database, rules: ReplenishmentRules, day: date) -> ReviewFindings:
    """Forecast every product and warehouse, project its stock and write proposals."""
    series = replenishment.demand_series(db, day, rules.history_days)
    forecasts = forecast_demand(series, rules.horizon_days)
    by_level = {(f.sku, f.warehouse_id): f for f in forecasts}
    projections = []
    wanted = []
    for position in replenishment.stock_positions(db, day):
        forecast = by_level.get((position.sku, position.warehouse_id))
        daily = forecast.daily if forecast and any(forecast.daily) else None
        projection = project(
            position, daily or [], forecast.error_sd if forecast else 0.0, day, rules
        )
        projections.append(projection)
        proposal = propose(position, projection, daily, rules)
        if proposal is not None:
            wanted.append(proposal)
    written = replenishment.write_review(db, forecasts, projections, wanted, datetime.now(UTC))
    accuracy = overall_accuracy(forecasts)
    return ReviewFindings(
        series=accuracy.series,
        wape=accuracy.wape,
        naive_wape=accuracy.naive_wape,
        methods=accuracy.methods,
        proposals_new=written.new,
        proposals_updated=written.updated,
        proposals_withdrawn=written.withdrawn,
        ordered=replenishment.ordered_requests(db, written.ordered),
    )


class InventoryReviewActivities:
    """Forecast, propose, raise alerts; place and receive replenishment orders."""

    def __init__(
        self,
        db: Database,
        *,
        factory: SupplyPartner,
        supplier: SupplyPartner,
        rules: ReplenishmentRules | None = None,
        alert_rules: AlertRules | None = None,
    ) -> None:
        self._db = db
        self._partners = {SupplyKind.PRODUCTION: factory, SupplyKind.PURCHASE: supplier}
        self._rules = rules or ReplenishmentRules()
        self._alert_rules = alert_rules or AlertRules()

    @activity.defn(name=FORECAST_AND_PROPOSE)
    def forecast_and_propose(self, request: ReviewRequest) -> ReviewFindings:
        """Forecast demand, project stock and write proposals (seconds on a large history)."""
        findings = run_review(self._db, self._rules, request.day or datetime.now(UTC).date())
        log.info(
            "inventory reviewed",
            series=findings.series,
            wape=findings.wape,
            naive_wape=findings.naive_wape,
            proposals=findings.proposals_new,
        )
        return findings

    @activity.defn(name=REVIEW_STOCK_ALERTS)
    def review_stock_alerts(self, request: ReviewRequest) -> AlertChanges:
        """Raise and clear alerts, days of cover from the forecast just written."""
        demand = replenishment.daily_demand_rates(self._db)
        now = datetime.now(UTC)
        day = request.day or now.date()
        moment = max(now, datetime(day.year, day.month, day.day, tzinfo=UTC))
        return alerts.review_alerts(self._db, self._alert_rules, moment, demand)

    @activity.defn(name=PLACE_REPLENISHMENT)
    async def place_replenishment(self, request: ReplenishmentRequest) -> SupplyOrderPlaced:
        """Order the quantity from the factory or the supplier, once."""
        key = f"replenishment-{request.proposal_id}:placed"
        done = await self._db.run(stored_result, self._db, key, SupplyOrderPlaced)
        if done is not None:
            return done
        partner = self._partners[request.kind]
        lead_time = await self._db.run(replenishment.lead_time_of, self._db, request.sku)
        confirmation = await partner.place_order(
            idempotency_key=key,
            sku=request.sku,
            quantity=request.quantity,
            deliver_to=request.warehouse_id,
            lead_time=lead_time,
        )
        return await self._db.run(
            replenishment.record_replenishment_order,
            self._db,
            request,
            partner=partner.name,
            partner_reference=confirmation.reference,
            expected_at=confirmation.expected_at,
        )

    @activity.defn(name=RECEIVE_REPLENISHMENT)
    def receive_replenishment(self, arrival: SupplyArrival) -> SupplyBalance:
        """Book a delivery into stock through the ledger, once per delivery note."""
        return replenishment.receive_replenishment(self._db, arrival)
