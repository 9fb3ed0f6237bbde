"""Changes to workflow code that running orders were already executing.

A workflow replays its history on every worker restart, so new code must make
the same calls in the same order for orders started before it. Each change is
guarded by ``workflow.patched(<id>)``: new orders take the new path and record a
marker, orders that started earlier keep the old one. Once no order that started
before a change is still running (check with a visibility query on its start
time), replace ``patched`` with ``workflow.deprecate_patch`` and, after that
release is everywhere, delete the old path and its id here.

Histories recorded before each change stay under ``tests/histories/`` and must
keep replaying.
"""

from __future__ import annotations

INTAKE_NOTICE = "intake-notice"
"""The customer is told at intake that the order is confirmed, or why it was not
accepted (added 2026-11; before, the first message was the parcel's pick-up)."""

LOCAL_DATABASE_STEPS = "local-database-steps"
"""Steps that are one short transaction on the business database run as local
activities, and a parcel workflow that takes several milestones at once (one
tracking poll) tells the order once, after the last of them (added 2026-12 for
throughput; before, each database step was a task-queue round trip and each
milestone a signal). Every workflow asks for it first thing in ``run`` (see
:func:`workflows._common.runs_database_steps_locally`), and the patches after
it are implied for the workflows that take it: a patch asked for only after a
local activity can answer differently on replay."""

RECORD_IGNORED_MESSAGES = "record-ignored-messages"
"""A signal or update whose payload cannot be read (none, ``null``, another shape,
an unknown signal name), and a refused update, is written to the order's audit
log (added 2026-12; before, it was only logged, or failed the workflow task).
Asked first thing in ``run``, after :data:`LOCAL_DATABASE_STEPS`."""

PICK_AND_PACK = "pick-and-pack"
"""A parcel from a warehouse that confirms packing waits for ``parcel_packed`` before the
carrier is booked, under the packing ladder (added 2026-12; before, every parcel was
booked at once). Asked first thing in the shipment workflow's ``run``, after
:data:`RECORD_IGNORED_MESSAGES`: parcels that started before keep being booked at once."""
