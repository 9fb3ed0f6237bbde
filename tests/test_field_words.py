"""A refused form's problems in words: pydantic's error kinds, our validators' sentences,
fields by their labels, in English and Chinese."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator

from domain.access import Locale
from domain.messages import InboundMessage
from domain.money import typed_amount
from web.field_words import in_words, problem_wording


class Form(InboundMessage):
    currency: Annotated[str, Field(pattern="^[A-Z]{3}$")] = "EUR"
    quantity: Annotated[int, Field(ge=1)] = 1
    amount: Annotated[Decimal, Field(gt=0)] = Decimal(1)
    status: Literal["RECEIVED", "PAID"] = "PAID"
    text: Annotated[str, Field(max_length=3)] = ""
    reason: str = ""

    _amount = field_validator("amount", mode="before")(typed_amount)


def refused(**typed: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Form.model_validate(typed)
    return caught.value


@pytest.mark.parametrize(
    ("typed", "english", "chinese"),
    [
        ({"currency": "eur"}, "Currency: has a form this field does not take (three", "幣別："),  # noqa: RUF001
        ({"quantity": "x"}, "Quantity: write a whole number", "數量：請填寫整數"),  # noqa: RUF001
        ({"quantity": "0"}, "Quantity: must be at least 1", "數量：至少須為 1"),  # noqa: RUF001
        ({"amount": "-5"}, "Amount: must be more than 0", "金額：必須大於 0"),  # noqa: RUF001
        ({"amount": "1e3"}, "Amount: write the amount as digits", "金額：請以數字填寫金額"),  # noqa: RUF001
        ({"status": "X"}, "must be one of: 'RECEIVED', 'PAID'", "必須是下列其中之一"),
        ({"text": "abcd"}, "Message: takes at most 3 characters", "訊息：最多 3 個字元"),  # noqa: RUF001
        ({"reason": "a\x07"}, "Reason: contains the control character U+0007", "U+0007，無法儲存"),  # noqa: RUF001
    ],
)
def test_each_kind_of_problem_in_words(typed: dict[str, str], english: str, chinese: str) -> None:
    error = refused(**typed)
    assert english in in_words(error, Locale.ENGLISH)
    assert chinese in in_words(error, Locale.TRADITIONAL_CHINESE)
    assert "should" not in in_words(error, Locale.TRADITIONAL_CHINESE)


def test_the_api_keeps_pydantic_s_english() -> None:
    error = refused(reason="a\x07", amount="1e3")
    said = {item["loc"][0]: item["msg"] for item in error.errors()}
    assert said["reason"].startswith("Value error, contains the control character U+0007")
    assert said["amount"].startswith("Value error, write the amount as digits")


def test_an_unknown_kind_and_a_percent_sign_fall_back_to_english() -> None:
    unknown = {"type": "something_new", "loc": ("x",), "msg": "Input is 100% wrong"}
    assert problem_wording(unknown).english() == "Input is 100% wrong"
    lost_context = {"type": "greater_than", "loc": ("x",), "msg": "Input should be greater than 0"}
    assert problem_wording(lost_context).english() == "Input should be greater than 0"


def test_a_line_of_a_list_is_named_by_its_row() -> None:
    class Order(BaseModel):
        lines: list[Form]

    with pytest.raises(ValidationError) as caught:
        Order.model_validate({"lines": [{}, {"quantity": "x"}]})
    assert in_words(caught.value, Locale.ENGLISH) == "line 2, Quantity: write a whole number"
    assert in_words(caught.value, Locale.TRADITIONAL_CHINESE) == "第 2 行的數量：請填寫整數"  # noqa: RUF001
