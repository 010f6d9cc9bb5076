"""EventBridge Scheduler's schedule expressions, read as the service reads them, and when a
schedule would fire next.

"Schedule types on EventBridge Scheduler" (EventBridge Scheduler User Guide):
- `cron(minutes hours day-of-month month day-of-week year)`: six fields; day-of-week runs 1-7 from
  SUN (not Unix cron's 0-6); one of day-of-month and day-of-week must be `?`; `L`, `W` and `#`
  as documented; years 1970-2199.
- `rate(value unit)`: a positive whole number and minute(s), hour(s) or day(s), singular exactly
  when the value is 1. A rate schedule counts from when it is created (or its StartDate).

Parsing is written here because no library reads EventBridge's dialect (croniter reads Unix cron
and is used, after the translation below, for the next times).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeAlias

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# field name, lowest, highest, names (index 0 is `lowest`), the special characters it takes
Field: TypeAlias = tuple[str, int, int, list[str] | None, str]
FIELDS: list[Field] = [
    ("minutes", 0, 59, None, ""),
    ("hours", 0, 23, None, ""),
    ("day-of-month", 1, 31, None, "?LW"),
    ("month", 1, 12, MONTHS, ""),
    ("day-of-week", 1, 7, DAYS, "?L#"),
    ("year", 1970, 2199, None, ""),
]
RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


class ExpressionError(ValueError):
    pass


@dataclass(frozen=True)
class Schedule:
    expression: str  # as EventBridge Scheduler takes it: cron(...) or rate(...)
    fields: tuple[str, ...] | None = None  # cron
    every: timedelta | None = None  # rate


def _value(text: str, field: Field) -> int:
    name, low, high, names, _ = field
    if names and text.upper() in names:
        return names.index(text.upper()) + low
    if not text.isdigit():
        raise ExpressionError(f"{name}: {text!r} is not a number" + (f" or one of {', '.join(names)}" if names else ""))
    number = int(text)
    if not low <= number <= high:
        raise ExpressionError(f"{name}: {number} is outside {low}-{high}")
    return number


def _check_field(text: str, field: Field) -> None:
    name, low, high, names, special = field
    for item in text.split(","):
        if item in ("*",) or (item == "?" and "?" in special):
            continue
        if item == "?":
            raise ExpressionError(f"{name} does not take '?' (only day-of-month and day-of-week do)")
        if "L" in special and (item == "L" or (name == "day-of-week" and re.fullmatch(r"[1-7]L|[A-Za-z]{3}L", item))):
            if item != "L":
                _value(item[:-1], field)
            continue
        if "W" in special and re.fullmatch(r"\d{1,2}W", item):
            _value(item[:-1], field)
            continue
        if "#" in special and "#" in item:
            day, _, nth = item.partition("#")
            _value(day, field)
            if nth not in ("1", "2", "3", "4", "5"):
                raise ExpressionError(f"{name}: {item!r}: the week after '#' is 1 to 5")
            continue
        base, _, step = item.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            raise ExpressionError(f"{name}: {item!r}: the increment after '/' is a positive number")
        if base == "*":
            continue
        first, dash, last = base.partition("-")
        lo = _value(first, field)
        if dash and lo > _value(last, field):
            raise ExpressionError(f"{name}: {item!r}: a range runs from low to high")


def parse(text: str) -> Schedule:
    """Read `cron(...)` / `rate(...)`, or the bare six cron fields / `VALUE UNIT` (what a spec's
    `schedule.cron` / `schedule.rate` hold). Raises ExpressionError saying what is wrong."""
    text = text.strip()
    m = re.fullmatch(r"(cron|rate)\((.*)\)", text)
    kind, body = (m.group(1), m.group(2).strip()) if m else (("rate" if re.fullmatch(r"\d+\s+[a-z]+", text) else "cron"), text)
    if kind == "rate":
        rm = re.fullmatch(r"(\d+)\s+([a-z]+)", body)
        if not rm:
            raise ExpressionError(f"rate({body}): a rate is a whole number and a unit, such as rate(1 day) or rate(6 hours)")
        value, unit = int(rm.group(1)), rm.group(2)
        singular = unit.rstrip("s") if unit.endswith("s") else unit
        if singular not in RATE_UNITS or value == 0:
            raise ExpressionError(f"rate({body}): the unit is minute(s), hour(s) or day(s) and the value at least 1")
        if (value == 1) != (unit == singular):
            raise ExpressionError(f"rate({body}): the unit is singular when the value is 1 and plural otherwise")
        return Schedule(f"rate({value} {unit})", every=timedelta(seconds=value * RATE_UNITS[singular]))
    parts = body.split()
    if len(parts) != 6:
        raise ExpressionError(
            f"cron({body}) has {len(parts)} fields; EventBridge's cron has six: minutes hours day-of-month month day-of-week year"
        )
    for part, field in zip(parts, FIELDS):
        _check_field(part, field)
    if (parts[2] == "?") == (parts[4] == "?"):
        raise ExpressionError(f"cron({body}): exactly one of day-of-month and day-of-week is '?'")
    return Schedule(f"cron({' '.join(parts)})", fields=tuple(parts))


def of_spec(kind: str, text: str) -> Schedule:
    """A spec's `schedule.cron` or `schedule.rate`, written bare or as cron(...) / rate(...)."""
    text = text.strip()
    return parse(text if text.startswith(f"{kind}(") else f"{kind}({text})")


def _unix_day_of_week(field: str) -> str:
    """EventBridge's 1-7 from SUN as Unix cron's 0-6 from SUN (names stay names)."""
    return re.sub(r"(?<!#)\d", lambda d: str(int(d.group(0)) - 1), field) if field != "?" else "*"


def _years(field: str) -> set[int] | None:
    if field == "*":
        return None
    found: set[int] = set()
    for item in field.split(","):
        base, _, step = item.partition("/")
        if base == "*":
            low, high = 1970, 2199
        elif "-" in base:
            low, high = (int(v) for v in base.split("-"))
        else:
            low = int(base)
            high = 2199 if step else low
        found.update(range(low, high + 1, int(step or 1)))
    return found


def next_times(schedule: Schedule, after: datetime, count: int = 3) -> list[datetime] | None:
    """The next `count` times the schedule fires after `after` (aware, in its time zone); a rate
    counts from `after`, as if created then. None when croniter cannot compute it (W, day-of-week L)."""
    if schedule.every is not None:
        return [after + schedule.every * (i + 1) for i in range(count)]
    assert schedule.fields is not None, "a schedule is a rate or a cron"
    minutes, hours, dom, month, dow, year = schedule.fields
    if "W" in dom or "L" in dow:
        return None
    from croniter import croniter  # start-up: only to compute fire times (`schedules list`), never to validate

    unix = " ".join([minutes, hours, "*" if dom == "?" else dom, month, _unix_day_of_week(dow)])
    years = _years(year)
    times: list[datetime] = []
    it = croniter(unix, after)
    while len(times) < count:
        when = it.get_next(datetime)
        if when.year > 2199 or (years is not None and when.year > max(years)):
            break
        if years is None or when.year in years:
            times.append(when)
    return times
