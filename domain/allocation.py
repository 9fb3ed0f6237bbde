"""Allocation: which warehouse ships which line.

Rule: one warehouse that can fill the whole order if there is one (the
customer gets one parcel); otherwise as few warehouses as possible, chosen
greedily by how much of what is still open each can fill.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel

from domain.wording import N_, Wording


class LineDemand(BaseModel):
    """What one order line needs."""

    line_no: int
    sku: str
    quantity: int


class Pick(BaseModel):
    """Take ``quantity`` of ``sku`` for ``line_no`` from ``warehouse_id``."""

    line_no: int
    sku: str
    warehouse_id: str
    quantity: int


class Shortage(BaseModel):
    """What no warehouse can supply for a line."""

    line_no: int
    sku: str
    requested: int
    available: int


class AllocationPlan(BaseModel):
    """Picks for everything that can be filled, the shortages, and why."""

    picks: list[Pick]
    shortages: list[Shortage]
    reason: str
    """Why, in English (``wording.english()``)."""
    wording: Wording | None = None
    """Why, as a catalogue message read in each reader's language."""


Availability = Mapping[str, Mapping[str, int]]
"""Free units by warehouse id, then by SKU. Warehouses in order of preference."""


def plan_allocation(demand: Sequence[LineDemand], available: Availability) -> AllocationPlan:
    """Plan picks for ``demand`` from ``available`` stock by the allocation rule."""
    for warehouse_id, stock in available.items():
        if all(stock.get(line.sku, 0) >= line.quantity for line in demand):
            whole = [
                Pick(
                    line_no=line.line_no,
                    sku=line.sku,
                    warehouse_id=warehouse_id,
                    quantity=line.quantity,
                )
                for line in demand
            ]
            wording = Wording(
                message=N_("%(warehouse)s can fill the whole order"),
                args={"warehouse": warehouse_id},
            )
            return AllocationPlan(
                picks=whole, shortages=[], reason=wording.english(), wording=wording
            )

    remaining = {line.line_no: line.quantity for line in demand}
    free = {wh: dict(stock) for wh, stock in available.items()}
    picks: list[Pick] = []
    used: list[str] = []
    while any(remaining.values()):
        best = max(
            free,
            key=lambda wh: sum(
                min(remaining[line.line_no], free[wh].get(line.sku, 0)) for line in demand
            ),
            default=None,
        )
        if best is None:
            break
        fillable = sum(min(remaining[line.line_no], free[best].get(line.sku, 0)) for line in demand)
        if fillable == 0:
            break
        for line in demand:
            take = min(remaining[line.line_no], free[best].get(line.sku, 0))
            if take:
                picks.append(
                    Pick(line_no=line.line_no, sku=line.sku, warehouse_id=best, quantity=take)
                )
                remaining[line.line_no] -= take
                free[best][line.sku] -= take
        used.append(best)
        del free[best]

    shortages = [
        Shortage(
            line_no=line.line_no,
            sku=line.sku,
            requested=line.quantity,
            available=line.quantity - remaining[line.line_no],
        )
        for line in demand
        if remaining[line.line_no]
    ]
    if not used:
        wording = Wording(message=N_("no warehouse has stock for this order"))
    else:
        wording = Wording(
            message=N_("no single warehouse can fill the order; fewest shipments: %(warehouses)s"),
            args={"warehouses": ", ".join(used)},
        )
    return AllocationPlan(
        picks=picks, shortages=shortages, reason=wording.english(), wording=wording
    )
