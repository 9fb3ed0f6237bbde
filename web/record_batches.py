"""Batches of records sent to the API (products, warehouses, stock levels, customers):
each item names its record by its key and holds only the fields to set.

A field absent from an item leaves the stored value as it is, as a column absent from a
CSV file does (:func:`persistence.catalogue_files.merge_into`, beside the CSV import's
:func:`~persistence.catalogue_files.import_into`, with the same locked look-up of the
stored records and the same loaders); ``null``,
where a field takes it, sets it. A new record needs its kind's required fields: a
batch with a new record that lacks one is refused (409, as any record the stored ones
make impossible: the request is valid as the document describes it, what it names is
not) and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import HTTPException, Request
from pydantic import BaseModel, Field, create_model
from pydantic.fields import FieldInfo
from pydantic_core import to_jsonable_python

from persistence.transactions.catalogue import CatalogueRecordsError, Imported

from .security import database

RecordT = TypeVar("RecordT", bound=BaseModel)


def partial_record(
    record: type[RecordT], keys: tuple[str, ...], required: tuple[str, ...]
) -> type[RecordT]:
    """The model of an item of a batch of ``record``: the ``keys`` required, every other
    field optional and without a default (absent keeps the stored value), each field's
    type and rules as the record's, so an explicit ``null`` is taken only where the
    record takes it."""
    optional: dict[str, Any] = {
        name: (
            _typed(info),
            Field(default=None, description=_described(info.description, info, name in required)),
        )
        for name, info in record.model_fields.items()
        if name not in keys
    }
    model: type[RecordT] = create_model(
        f"Partial{record.__name__}",
        __base__=record,
        __doc__=f"{record.__doc__ or record.__name__}\n\nOnly the fields sent are set: an "
        "absent field keeps the stored value; a new record needs the fields required for "
        "one and takes the defaults of the others.",
        **optional,
    )
    # No default in the document: absence keeps the stored value, it sets no default.
    model.model_config["json_schema_extra"] = _without_defaults(
        model.model_config.get("json_schema_extra")
    )
    model.model_rebuild(force=True)
    return model


def sent_fields(items: Sequence[BaseModel]) -> list[dict[str, Any]]:
    """The fields each item holds (those its sender set, ``null`` included)."""
    return [{name: getattr(item, name) for name in item.model_fields_set} for item in items]


async def merged(request: Request, merge: Callable[..., Imported], *arguments: object) -> Imported:
    """Run ``merge`` (a :func:`persistence.catalogue_files.merge_into` of a kind) in the
    database's thread: 409 when a record is refused, a new one lacking a required field
    too (the detail names each by its position and what it lacks)."""
    db = database(request)
    try:
        return await db.run(merge, db, *arguments)
    except CatalogueRecordsError as refused:
        raise HTTPException(409, str(refused)) from refused


def _typed(info: FieldInfo) -> Any:
    """The field's type with its rules (lengths, patterns, strictness, validators)."""
    return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation


def _described(description: str | None, info: FieldInfo, required_when_new: bool) -> str:
    said = "Absent: kept as stored; " + (
        "required for a new record."
        if required_when_new
        else "a new record takes "
        + json.dumps(to_jsonable_python(info.get_default(call_default_factory=True)))
        + "."
    )
    return f"{description}\n\n{said}" if description else said


def _without_defaults(extra: Any) -> Callable[[dict[str, Any], type[BaseModel]], None]:
    def schema(document: dict[str, Any], model: type[BaseModel]) -> None:
        if callable(extra):
            extra(document, model)
        elif isinstance(extra, dict):
            document.update(extra)
        for field in document.get("properties", {}).values():
            field.pop("default", None)

    return schema
