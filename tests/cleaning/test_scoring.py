"""The scoring rule on fixed data: passed / (passed + failed); 不适用 counts neither way."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from forms_app.cleaning.scoring import Score, pass_rate, score
from forms_app.web.template_filters import format_rate


def rows(*pairs):
    return [SimpleNamespace(result=result, key_area=key) for result, key in pairs]


@pytest.mark.parametrize(
    "passed, failed, expected", [(7, 0, 1.0), (6, 1, 6 / 7), (0, 3, 0.0), (0, 0, None), (1, 1, 0.5)]
)
def test_pass_rate_is_the_share_of_applicable_items_passed(passed, failed, expected):
    assert pass_rate(passed, failed) == expected


def test_score_counts_results_and_key_area_failures():
    counted = score(
        rows(
            ("pass", True),
            ("fail", True),
            ("fail", False),
            ("na", True),
            ("pass", False),
            ("pass", False),
        )
    )
    assert counted == Score(passed=3, failed=2, not_applicable=1, key_failures=1)
    assert counted.applicable == 5
    assert counted.rate == 0.6
    assert counted.label == "60%（3/5 项合格）"


def test_not_applicable_items_do_not_lower_or_raise_the_score():
    assert score(rows(("pass", False), ("na", False), ("na", False))).rate == 1.0
    only_na = score(rows(("na", True)))
    assert only_na.rate is None and only_na.label == "无适用项"


def test_rates_read_as_percentages():
    assert format_rate(6 / 7) == "85.7%"
    assert format_rate(1.0) == "100%"
    assert format_rate(None) == "—"
