"""收据: the amount in Chinese capitals, the printed number, and the gap-free series."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from forms_app.core.database import write_transaction
from forms_app.core.extensions import db
from forms_app.fees.models import FeeReceipt, FeeReceiptCounter
from forms_app.fees.receipts import amount_in_words, issue_receipt, number_text, take_number


@pytest.mark.parametrize(
    "fen, words",
    [
        (100250, "壹仟零贰元伍角整"),
        (5, "伍分"),
        (10000000, "壹拾万元整"),
        (0, "零元整"),
        (1, "壹分"),
        (10, "壹角整"),
        (25, "贰角伍分"),
        (100, "壹元整"),
        (1005, "壹拾元零伍分"),
        (1050, "壹拾元伍角整"),
        (50000, "伍佰元整"),
        (120000, "壹仟贰佰元整"),
        (1000100, "壹万零壹元整"),
        (1001000, "壹万零壹拾元整"),
        (1010000, "壹万零壹佰元整"),
        (1200000, "壹万贰仟元整"),
        (10001000, "壹拾万零壹拾元整"),
        (100000000, "壹佰万元整"),
        (1000000000, "壹仟万元整"),
        (10000000000, "壹亿元整"),
        (10000000100, "壹亿零壹元整"),
        (12345678901, "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元零壹分"),
        (300000000000, "叁拾亿元整"),
        (1000000000000, "壹佰亿元整"),
        (99999, "玖佰玖拾玖元玖角玖分"),
    ],
)
def test_amounts_in_chinese_capitals(fen, words):
    assert amount_in_words(fen) == words


@pytest.mark.parametrize("bad", [-1, 1.5, "100", True, 10**14])
def test_what_is_no_amount_of_fen_is_refused(bad):
    with pytest.raises(ValueError):
        amount_in_words(bad)


def test_the_printed_number_is_padded_to_seven_digits():
    assert number_text(123) == "0000123"
    assert number_text(12345678) == "12345678"


def test_numbers_run_without_gaps_per_community_and_a_rollback_returns_its_number(app):
    with app.app_context():
        with write_transaction() as session:
            assert [take_number(session, "a") for _ in range(3)] == [1, 2, 3]
            assert take_number(session, "b") == 1
        with pytest.raises(RuntimeError), write_transaction() as session:
            assert take_number(session, "a") == 4
            raise RuntimeError("the payment failed")
        with write_transaction() as session:
            assert take_number(session, "a") == 4
        counters = dict(
            db.session.execute(
                select(FeeReceiptCounter.community, FeeReceiptCounter.next_number)
            ).all()
        )
        assert counters == {"a": 5, "b": 2}


def test_a_receipt_number_used_twice_is_refused_by_the_database(app):
    with app.app_context():
        with write_transaction() as session:
            issue_receipt(
                session,
                community="a",
                room_id=None,
                payer="甲",
                method="cash",
                total_fen=100,
                actor="测试",
            )
        with pytest.raises(IntegrityError), write_transaction() as session:
            session.add(
                FeeReceipt(
                    community="a",
                    number=1,
                    payer="乙",
                    method="cash",
                    total_fen=1,
                    issued_by="测试",
                )
            )
            session.flush()
        assert db.session.scalar(select(FeeReceipt.payer)) == "甲"
