"""Issue 25, tried from outside on the HTTP API as a hostile client would (items 7 to 12):
each test sends what the issue describes through the real application (FastAPI's test
client), on both databases, and reads the answer a client gets.

Every refusal is an RFC 9457 problem (``application/problem+json``); no answer copies the
input back; the key is checked before the body is read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from domain.access import Role, SystemRole
from domain.catalogue import ProductRecord
from domain.customers import CustomerRecord
from domain.shipping import ParcelPacked
from persistence.database import Database
from persistence.transactions import accounts, api_keys
from runtime.settings import Settings
from tests.factories import submission
from web.app import create_app
from web.json_body import MAX_BODY_BYTES, MAX_DEPTH, MAX_NUMBER_LENGTH
from web.problems import PROBLEM_JSON, ProblemType

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class BodyRoute:
    """A route that reads a JSON body: who may use it, and a body it takes."""

    path: str
    role: SystemRole
    body: Any


def order_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(submission("API-OUTSIDE-1").model_dump_json())
    return document


CUSTOMER: dict[str, Any] = {
    "id": "CUST-OUT",
    "name": "Outside Ltd",
    "email": "buyer@outside.example",
}
PRODUCT: dict[str, Any] = {"sku": "OUT-1", "name": "Outside widget", "unit_price": "9.50"}
WAREHOUSE: dict[str, Any] = {"id": "WH-OUT", "name": "Outside", "country": "DE"}
LEVEL: dict[str, Any] = {"sku": "WIDGET-1", "warehouse_id": "WH-BER", "reorder_point": 5}
RECEIPT: dict[str, Any] = {
    "operation": "receipt",
    "sku": "WIDGET-1",
    "warehouse_id": "WH-BER",
    "quantity": 3,
    "reason": "supplier_delivery",
}
TRANSFER: dict[str, Any] = {
    "from_warehouse_id": "WH-BER",
    "to_warehouse_id": "WH-HAM",
    "lines": [{"sku": "WIDGET-1", "quantity": 1}],
}
COMPLAINT: dict[str, Any] = {
    "channel": "web",
    "customer_id": "CUST-ACME",
    "subject": "Late",
    "description": "x",
}

BODY_ROUTES = [
    BodyRoute("/api/v1/orders", SystemRole.INTAKE, order_document()),
    BodyRoute("/api/v1/customers", SystemRole.CRM, [CUSTOMER]),
    BodyRoute("/api/v1/complaints", SystemRole.INTAKE, COMPLAINT),
    BodyRoute("/api/v1/complaints/1/messages", SystemRole.INTAKE, {"text": "hello"}),
    BodyRoute("/api/v1/complaints/1/survey", SystemRole.INTAKE, {"score": 4, "comment": "ok"}),
    BodyRoute("/api/v1/stock/operations", SystemRole.WAREHOUSE, RECEIPT),
    BodyRoute("/api/v1/stock/transfers", SystemRole.WAREHOUSE, TRANSFER),
    BodyRoute("/api/v1/stock/products", SystemRole.WAREHOUSE, [PRODUCT]),
    BodyRoute("/api/v1/stock/warehouses", SystemRole.WAREHOUSE, [WAREHOUSE]),
    BodyRoute("/api/v1/stock/levels", SystemRole.WAREHOUSE, [LEVEL]),
    BodyRoute("/api/v1/stock/parcels/SHP-1/packed", SystemRole.WAREHOUSE, {"note": "ok"}),
]


@pytest.fixture
def api(db: Database, database_url: str) -> Iterator[TestClient]:
    """The application; a server error is an answer (500) here, never a raised exception."""
    app = create_app(Settings(database_url=database_url), db)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        yield client


@pytest.fixture
def keys(db: Database) -> dict[SystemRole, str]:
    """A key of every system role."""
    return {
        role: api_keys.create_api_key(db, f"outside-{role.value}", role, actor="test").key
        for role in SystemRole
    }


def headers(
    key: str | None = None, content_type: str | None = "application/json"
) -> dict[str, str]:
    sent = {} if key is None else {"Authorization": f"Bearer {key}"}
    return sent if content_type is None else {**sent, "Content-Type": content_type}


def problem(
    answer: httpx2.Response, status: int, kind: ProblemType | None = None
) -> dict[str, Any]:
    """The answer's problem details, checked to be one (RFC 9457) of ``status``."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = answer.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    assert body["type"] == ("about:blank" if kind is None else kind.uri)
    return body


def fields(body: dict[str, Any]) -> dict[str, str]:
    """The pointer (or parameter) of each field a problem names, with its code."""
    return {e.get("pointer") or e["parameter"]: e["code"] for e in body["errors"]}


def invalid(answer: httpx2.Response) -> dict[str, str]:
    """The fields an answer (a 422 problem of invalid fields) names, with their codes."""
    return fields(problem(answer, 422, ProblemType.INVALID_FIELDS))


def in_first_string(value: Any, replacement: str) -> tuple[Any, str]:
    """``value`` with its first text field set to ``replacement``, and that field's
    pointer."""
    if isinstance(value, list):
        inner, where = in_first_string(value[0], replacement)
        return [inner, *value[1:]], "/0" + where
    for name, item in value.items():
        if isinstance(item, str):
            return {**value, name: replacement}, f"/{name}"
    raise AssertionError(f"no text field in {value}")


# --- 7: a lone surrogate, NaN or Infinity: 422 naming the field, never 500 ----------------


def test_a_lone_surrogate_is_refused_naming_its_field_on_every_json_endpoint(
    api: TestClient, keys: dict[SystemRole, str]
) -> None:
    for route in BODY_ROUTES:
        body, where = in_first_string(route.body, "caf\ud800")
        sent = json.dumps(body)  # the surrogate travels as \ud800, as JavaScript sends it
        assert "\\ud800" in sent
        answer = api.post(route.path, content=sent, headers=headers(keys[route.role]))
        assert invalid(answer) == {f"#{where}": "string_unicode"}, route.path
        assert "caf" not in answer.text  # the value is named, never copied back


def test_nan_and_infinity_are_refused_naming_their_field_on_every_json_endpoint(
    api: TestClient, keys: dict[SystemRole, str]
) -> None:
    for route in BODY_ROUTES:
        for constant in ("NaN", "Infinity", "-Infinity"):
            body, where = in_first_string(route.body, "__NUMBER__")
            sent = json.dumps(body).replace('"__NUMBER__"', constant)
            answer = api.post(route.path, content=sent, headers=headers(keys[route.role]))
            assert invalid(answer) == {f"#{where}": "finite_number"}, (route.path, constant)


def test_a_field_name_holding_a_lone_surrogate_is_refused_not_a_server_error(
    api: TestClient, keys: dict[SystemRole, str]
) -> None:
    sent = '[{"id": "CUST-OUT", "\\udc00": 1}]'
    answer = api.post("/api/v1/customers", content=sent, headers=headers(keys[SystemRole.CRM]))
    assert invalid(answer) == {"#/0/%EF%BF%BD": "string_unicode"}


def test_a_200_kb_lines_array_gets_a_small_error_not_a_copy_of_itself(
    api: TestClient, keys: dict[SystemRole, str]
) -> None:
    document = order_document()
    document["lines"] = document["lines"][:1] * 4_000
    sent = json.dumps(document)
    assert 150_000 < len(sent) < MAX_BODY_BYTES
    answer = api.post("/api/v1/orders", content=sent, headers=headers(keys[SystemRole.INTAKE]))
    refused = problem(answer, 422, ProblemType.INVALID_FIELDS)
    assert fields(refused) == {"#/lines": "too_long"}
    assert len(answer.content) < 1_000


def test_a_record_batch_with_thousands_of_wrong_fields_names_the_first_fifty(
    api: TestClient, keys: dict[SystemRole, str]
) -> None:
    records = [{**CUSTOMER, "id": f"C-{n}", "net_days": "30"} for n in range(500)]
    answer = api.post("/api/v1/customers", json=records, headers=headers(keys[SystemRole.CRM]))
    refused = problem(answer, 422, ProblemType.INVALID_FIELDS)
    assert len(refused["errors"]) == 50
    assert refused["detail"] == "500 fields are not valid (see errors); the first 50 are named"
    assert len(answer.content) < 10_000


# --- 8: each unreadable body gets its own code and reason -------------------------------


def test_a_chunked_upload_over_256_kb_gets_413_not_400(
    api: TestClient, keys: dict[SystemRole, str]
) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the body is counted as it comes
        yield b'{"order_id": "'
        for _ in range(300):
            yield b"x" * 1024
        yield b'"}'

    answer = api.post("/api/v1/orders", content=chunks(), headers=headers(keys[SystemRole.INTAKE]))
    refused = problem(answer, 413, ProblemType.BODY_TOO_LARGE)
    assert refused["detail"].startswith(f"the body is over {MAX_BODY_BYTES} bytes")


def test_a_declared_body_over_256_kb_gets_413(api: TestClient, keys: dict[SystemRole, str]) -> None:
    huge = b"[" + b" " * MAX_BODY_BYTES + b"]"
    answer = api.post("/api/v1/customers", content=huge, headers=headers(keys[SystemRole.CRM]))
    problem(answer, 413, ProblemType.BODY_TOO_LARGE)


def test_invalid_utf8_is_400_saying_where(api: TestClient, keys: dict[SystemRole, str]) -> None:
    sent = b'[{"id": "CUST-OUT",\n "name": "Caf\xe9"}]'  # Latin-1, as an old system sends it
    answer = api.post("/api/v1/customers", content=sent, headers=headers(keys[SystemRole.CRM]))
    refused = problem(answer, 400, ProblemType.NOT_UTF8)
    where = sent.index(b"\xe9")
    assert refused["detail"].startswith(f"byte {where} (line 2) is not UTF-8")


def test_100000_levels_of_nesting_is_400_saying_so(
    api: TestClient, keys: dict[SystemRole, str]
) -> None:
    sent = "[" * 100_000 + "]" * 100_000
    answer = api.post("/api/v1/customers", content=sent, headers=headers(keys[SystemRole.CRM]))
    refused = problem(answer, 400, ProblemType.TOO_DEEP)
    assert refused["detail"] == f"arrays and objects are nested more than {MAX_DEPTH} levels deep"
    just_too_deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)
    answer = api.post(
        "/api/v1/customers", content=just_too_deep, headers=headers(keys[SystemRole.CRM])
    )
    problem(answer, 400, ProblemType.TOO_DEEP)


def test_a_5000_digit_number_is_400_saying_so(api: TestClient, keys: dict[SystemRole, str]) -> None:
    for number in ("9" * 5_000, "0." + "1" * 5_000):
        sent = '[{"id": "CUST-OUT", "net_days": ' + number + "}]"
        answer = api.post("/api/v1/customers", content=sent, headers=headers(keys[SystemRole.CRM]))
        refused = problem(answer, 400, ProblemType.NUMBER_TOO_LONG)
        assert refused["detail"] == (
            f"a number is written with {len(number)} characters; "
            f"the API reads numbers of up to {MAX_NUMBER_LENGTH}"
        )


def test_a_body_that_is_not_json_is_400_saying_where(
    api: TestClient, keys: dict[SystemRole, str]
) -> None:
    sent = '[{"id": "CUST-OUT",\n  "name": }]'
    answer = api.post("/api/v1/customers", content=sent, headers=headers(keys[SystemRole.CRM]))
    refused = problem(answer, 400, ProblemType.INVALID_JSON)
    assert refused["detail"] == "Expecting value at line 2, column 11"


def test_a_body_sent_as_something_else_than_json_is_415(
    api: TestClient, keys: dict[SystemRole, str]
) -> None:
    body = json.dumps([CUSTOMER])
    for content_type in (None, "text/plain", "application/x-www-form-urlencoded"):
        answer = api.post(
            "/api/v1/customers", content=body, headers=headers(keys[SystemRole.CRM], content_type)
        )
        problem(answer, 415, ProblemType.NOT_JSON)
    answer = api.post(
        "/api/v1/customers",
        content=body,
        headers=headers(keys[SystemRole.CRM], "application/json; charset=utf-8"),
    )
    assert answer.status_code == 200, answer.text


# --- 9: strict types at the boundary -----------------------------------------------------


def test_consent_and_every_other_boolean_must_be_true_or_false(
    api: TestClient, keys: dict[SystemRole, str]
) -> None:
    crm, warehouse = headers(keys[SystemRole.CRM]), headers(keys[SystemRole.WAREHOUSE])
    consent = {**CUSTOMER, "marketing_consent": 0}
    answer = api.post("/api/v1/customers", json=[consent], headers=crm)
    assert invalid(answer) == {"#/0/marketing_consent": "bool_type"}
    for path, record, name, value in [
        ("/api/v1/customers", CUSTOMER, "active", 1),
        ("/api/v1/customers", CUSTOMER, "contact_by_phone", "yes"),
        ("/api/v1/stock/products", PRODUCT, "active", 0),
        ("/api/v1/stock/warehouses", WAREHOUSE, "confirm_packing", 1),
        ("/api/v1/stock/levels", LEVEL, "automatic", "true"),
    ]:
        sent = [{**record, name: value}]
        answer = api.post(path, json=sent, headers=crm if "customers" in path else warehouse)
        assert invalid(answer) == {f"#/0/{name}": "bool_type"}, (path, name)
    given = {**CUSTOMER, "marketing_consent": True, "consent_source": "web shop sign-up"}
    assert api.post("/api/v1/customers", json=[given], headers=crm).status_code == 200
    read = api.get("/api/v1/customers/CUST-OUT", headers=crm).json()
    assert read["marketing_consent"] is True


def test_whole_numbers_are_json_numbers_not_booleans_or_text(
    api: TestClient, keys: dict[SystemRole, str]
) -> None:
    crm, warehouse = headers(keys[SystemRole.CRM]), headers(keys[SystemRole.WAREHOUSE])
    for path, record, name, value, sent_with in [
        ("/api/v1/customers", CUSTOMER, "net_days", "30", crm),
        ("/api/v1/customers", CUSTOMER, "net_days", True, crm),
        ("/api/v1/stock/products", PRODUCT, "lead_time_days", "5", warehouse),
        ("/api/v1/stock/warehouses", WAREHOUSE, "priority", False, warehouse),
        ("/api/v1/stock/levels", LEVEL, "minimum", True, warehouse),
    ]:
        answer = api.post(path, json=[{**record, name: value}], headers=sent_with)
        assert invalid(answer) == {f"#/0/{name}": "int_type"}, (path, value)
    survey = api.post(
        "/api/v1/complaints/1/survey",
        json={"score": True},
        headers=headers(keys[SystemRole.INTAKE]),
    )
    assert invalid(survey) == {"#/score": "int_type"}
    whole = {**PRODUCT, "lead_time_days": 5.0, "pack_multiple": 12}
    assert api.post("/api/v1/stock/products", json=[whole], headers=warehouse).status_code == 200
    listed = api.get("/api/v1/stock/products", headers=warehouse).json()
    assert [(p["lead_time_days"], p["pack_multiple"]) for p in listed if p["sku"] == "OUT-1"] == [
        (5, 12)
    ]


def test_a_date_in_a_query_is_a_date_not_a_number_of_seconds(
    api: TestClient, keys: dict[SystemRole, str]
) -> None:
    reader = headers(keys[SystemRole.READER], None)
    for query in ("to=0", "from=1700000000", "to=2026-02-30", "from=20261206", "to="):
        answer = api.get(f"/api/v1/orders?{query}", headers=reader)
        name = query.partition("=")[0]
        assert invalid(answer) == {name: "value_error"}, query
    listed = api.get("/api/v1/orders?from=2026-01-01&to=2026-12-31", headers=reader)
    assert listed.status_code == 200, listed.text


def test_text_read_as_text_still_reads_numbers_and_yes_no() -> None:
    """CSV cells and console forms are text: the strict types read them as before."""
    product = ProductRecord.model_validate_strings(
        {**PRODUCT, "lead_time_days": "7", "pack_multiple": " 12 ", "active": "false"}
    )
    assert (product.lead_time_days, product.pack_multiple, product.active) == (7, 12, False)
    customer = CustomerRecord.model_validate_strings(
        {**CUSTOMER, "marketing_consent": "1", "consent_source": "form", "net_days": "0"}
    )
    assert customer.marketing_consent is True
    packed = ParcelPacked.model_validate_strings({"actor": "kai.wu", "packages": "2"})
    assert packed.packages == 2  # the console's packing form was refused every number


# --- 10: the key before the body ---------------------------------------------------------


def test_a_malformed_body_without_a_key_is_401_and_with_the_wrong_key_403(
    api: TestClient, keys: dict[SystemRole, str]
) -> None:
    for route in BODY_ROUTES:
        for sent in ("{", "[" * 100_000, '{"a": NaN}', "x" * (MAX_BODY_BYTES + 1)):
            for key in (None, "oms_guessed"):
                answer = api.post(route.path, content=sent, headers=headers(key))
                problem(answer, 401)
                assert answer.headers["www-authenticate"] == "Bearer"
            answer = api.post(route.path, content=sent, headers=headers(keys[SystemRole.READER]))
            problem(answer, 403)


# --- 11: 405 names every method of the path ---------------------------------------------


def test_405_lists_every_method_the_path_takes(
    api: TestClient, keys: dict[SystemRole, str]
) -> None:
    for path, allowed in [
        ("/api/v1/orders", "GET, POST"),
        ("/api/v1/stock/products", "GET, POST"),
        ("/api/v1/stock/warehouses", "GET, POST"),
        ("/api/v1/stock/levels", "GET, POST"),
        ("/api/v1/stock/operations", "POST"),
        ("/api/v1/customers/CUST-ACME", "GET"),
    ]:
        answer = api.delete(path, headers=headers(keys[SystemRole.WAREHOUSE]))
        problem(answer, 405)
        assert answer.headers["allow"] == allowed, path


# --- 12: one documented error shape ------------------------------------------------------


def test_every_refusal_is_a_problem_with_a_type_title_status_and_detail(
    api: TestClient, keys: dict[SystemRole, str]
) -> None:
    crm = headers(keys[SystemRole.CRM])
    missing = api.get("/api/v1/customers/NOBODY", headers=crm)
    assert problem(missing, 404)["detail"] == "no customer 'NOBODY'"
    unsourced = {**CUSTOMER, "marketing_consent": True}
    refused = api.post("/api/v1/customers", json=[unsourced], headers=crm)
    assert "say how the marketing consent was given" in problem(refused, 409)["detail"]
    wrong_path = api.get("/api/v1/customers/not%20an%20id", headers=crm)
    assert invalid(wrong_path) == {"customer_id": "string_pattern_mismatch"}
    page_size = api.get("/api/v1/orders?page_size=0", headers=headers(keys[SystemRole.READER]))
    assert invalid(page_size) == {"page_size": "greater_than_equal"}
    empty = api.post("/api/v1/customers", json=[], headers=crm)
    assert invalid(empty) == {"#": "too_short"}
    nothing = api.post("/api/v1/customers", headers=crm)
    assert invalid(nothing) == {"#": "missing"}
    unknown = api.post("/api/v1/customers", json=[{**CUSTOMER, "shoe_size": 44}], headers=crm)
    assert invalid(unknown) == {"#/0/shoe_size": "extra_forbidden"}


def test_the_openapi_document_gives_every_refusal_of_every_route_as_a_problem(
    api: TestClient,
) -> None:
    document = api.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert {"Problem", "FieldProblem"} <= set(schemas)
    assert "HTTPValidationError" not in schemas
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    operations = [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) == 20
    for method, path, operation in operations:
        responses = operation["responses"]
        expected = {"401", "403", "422"}
        if "requestBody" in operation:
            expected |= {"400", "413", "415"}
        assert expected <= set(responses), (method, path)
        for status, response in responses.items():
            if status.startswith(("4", "5")):
                assert response["content"] == {PROBLEM_JSON: {"schema": problem_ref}}, (
                    method,
                    path,
                    status,
                )
    named = schemas["FieldProblem"]["properties"]
    assert {"code", "detail", "pointer", "parameter"} <= set(named)


def test_the_console_answers_a_wrong_query_with_its_page_not_the_api_s_json(
    api: TestClient, db: Database
) -> None:
    accounts.create_user(db, "olivia", PASSWORD, Role.ORDER_PROCESSING, actor="test")
    login = api.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    assert token is not None
    fields_sent = {"username": "olivia", "password": PASSWORD, "csrf_token": token.group(1)}
    assert api.post("/login", data=fields_sent).status_code == 303
    page = api.get("/orders?page=abc&to=0")
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert "page" in page.text
