"""EventBridge's cron and rate, read as the service reads them (not as Unix cron)."""

from datetime import datetime, timezone

import pytest

from sagespec.aws.schedule_expressions import ExpressionError, next_times, parse

AFTER = datetime(2026, 12, 3, 18, 0, tzinfo=timezone.utc)  # a Thursday


@pytest.mark.parametrize(
    "expression, expected",
    [
        # day-of-week 1 is SUN, 2 MON (Unix cron's 1 would be Monday)
        ("cron(0 9 ? * 1 *)", ["2026-12-06T09:00", "2026-12-13T09:00"]),
        ("cron(0 9 ? * 2 *)", ["2026-12-07T09:00", "2026-12-14T09:00"]),
        # 6#3: the third Friday of the month
        ("cron(15 10 ? * 6#3 *)", ["2026-12-18T10:15", "2027-01-15T10:15"]),
        # L: the last day of the month; the year field holds the schedule to 2027
        ("cron(0 12 L * ? 2027)", ["2027-01-31T12:00", "2027-02-28T12:00"]),
        ("cron(0/20 18 * * ? *)", ["2026-12-03T18:20", "2026-12-03T18:40"]),
        ("rate(6 hours)", ["2026-12-04T00:00", "2026-12-04T06:00"]),
    ],
)
def test_next_times(expression, expected):
    times = next_times(parse(expression), AFTER, 2)
    assert [t.isoformat(timespec="minutes")[:16] for t in times] == expected


def test_what_croniter_cannot_compute_is_said_not_guessed():
    assert next_times(parse("cron(0 9 15W * ? *)"), AFTER) is None


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 9 * * 1 *)",
        "cron(0 9 ? * 0 *)",
        "cron(0 9 ? 13 * *)",
        "cron(0 9 ? * 2 1969)",
        "rate(1 hours)",
        "rate(5 minute)",
        "cron(5-1 9 ? * * *)",
    ],
)
def test_what_eventbridge_refuses_is_refused(expression):
    with pytest.raises(ExpressionError):
        parse(expression)
