"""Every business transaction, in one place: activities, ``oms`` and the console call these.

Each public function is one synchronous transaction on a :class:`~persistence.database.Database`
(most run at most once per idempotency key, :func:`persistence.idempotency.run_once`)
and returns a domain model. Activities are thin adapters onto them; async code
hands them to the database's threads with :meth:`~persistence.database.Database.run`.
A step that cannot be done raises :class:`temporalio.exceptions.ApplicationError`
with its type, which an activity passes on as its failure and a person's tool
shows as the reason.
"""
