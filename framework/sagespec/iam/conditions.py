"""The Condition element: operators, set qualifiers, IfExists and policy variables.

As documented in "IAM JSON policy elements: Condition operators" and "Single-valued vs.
multivalued context keys":

- every operator block in a Condition must hold (AND); within one key, any of the listed values
  may match (OR), except that a negated operator must fail to match all of them;
- a key missing from the request context makes a condition false, except for the negated
  operators (StringNotEquals, ArnNotLike, ...), `...IfExists`, `Null` and `ForAllValues:`,
  which hold;
- `ForAnyValue:` holds when one value of a multivalued key matches, `ForAllValues:` when every
  value does;
- wildcards are `*` and `?` only (there are no character classes in IAM), and ArnLike matches
  each of the six colon-separated parts of an ARN on its own.

An operator this module does not know makes the statement undecidable (None): an Allow with it
grants nothing and a Deny with it still denies, so an unknown operator never widens access.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from datetime import datetime

_T = TypeVar("_T")
# An operator's test of one request value against one policy value.
Comparison = Callable[[Any, Any], bool]


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: `*` any run of characters, `?` one character, nothing else special."""
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike: the six parts of the ARN are matched one by one, so `*` never spans a colon
    of the service, region or account parts (the resource part may contain colons)."""
    pattern_parts, value_parts = pattern.split(":", 5), value.split(":", 5)
    if len(pattern_parts) != 6 or len(value_parts) != 6:
        return False
    return all(glob_matches(p, v) for p, v in zip(pattern_parts, value_parts))


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _date(value: object) -> datetime | None:
    from datetime import datetime, timezone  # only Date* conditions need it: the registry CLI starts without it

    text = str(value)
    try:
        if re.fullmatch(r"\d+(\.\d+)?", text):  # epoch seconds are allowed too
            return datetime.fromtimestamp(float(text), tz=timezone.utc)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError):
        return None


def _compare(convert: Callable[[Any], _T | None], test: Callable[[_T, _T], bool]) -> Comparison:
    def compare(actual: Any, expected: Any) -> bool:
        a, b = convert(actual), convert(expected)
        return a is not None and b is not None and test(a, b)

    return compare


def _ip_in(actual: object, expected: object) -> bool:
    try:
        return ipaddress.ip_address(str(actual)) in ipaddress.ip_network(str(expected), strict=False)
    except ValueError:
        return False


# operator -> (compare(actual, expected), negated)
OPERATORS: dict[str, tuple[Comparison, bool]] = {
    "StringEquals": (lambda a, b: str(a) == str(b), False),
    "StringNotEquals": (lambda a, b: str(a) == str(b), True),
    "StringEqualsIgnoreCase": (lambda a, b: str(a).lower() == str(b).lower(), False),
    "StringNotEqualsIgnoreCase": (lambda a, b: str(a).lower() == str(b).lower(), True),
    "StringLike": (lambda a, b: glob_matches(str(b), str(a)), False),
    "StringNotLike": (lambda a, b: glob_matches(str(b), str(a)), True),
    "ArnEquals": (lambda a, b: arn_like(str(b), str(a)), False),
    "ArnLike": (lambda a, b: arn_like(str(b), str(a)), False),
    "ArnNotEquals": (lambda a, b: arn_like(str(b), str(a)), True),
    "ArnNotLike": (lambda a, b: arn_like(str(b), str(a)), True),
    "NumericEquals": (_compare(_number, lambda a, b: a == b), False),
    "NumericNotEquals": (_compare(_number, lambda a, b: a == b), True),
    "NumericLessThan": (_compare(_number, lambda a, b: a < b), False),
    "NumericLessThanEquals": (_compare(_number, lambda a, b: a <= b), False),
    "NumericGreaterThan": (_compare(_number, lambda a, b: a > b), False),
    "NumericGreaterThanEquals": (_compare(_number, lambda a, b: a >= b), False),
    "DateEquals": (_compare(_date, lambda a, b: a == b), False),
    "DateNotEquals": (_compare(_date, lambda a, b: a == b), True),
    "DateLessThan": (_compare(_date, lambda a, b: a < b), False),
    "DateLessThanEquals": (_compare(_date, lambda a, b: a <= b), False),
    "DateGreaterThan": (_compare(_date, lambda a, b: a > b), False),
    "DateGreaterThanEquals": (_compare(_date, lambda a, b: a >= b), False),
    "Bool": (lambda a, b: str(a).lower() == str(b).lower(), False),
    "IpAddress": (_ip_in, False),
    "NotIpAddress": (_ip_in, True),
}

_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


def substitute(text: str, context: dict[str, Any], version: str | None) -> str | None:
    """Policy variables (`${aws:PrincipalAccount}`) replaced from the request context; None when a
    variable is not in the context (the element then matches nothing). Policies of version
    2008-10-17 have no variables: the text is literal."""
    if version != "2012-10-17" or "${" not in text:
        return text
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1).strip()
        if name in _ESCAPES:
            return _ESCAPES[name]
        found = context.get(name.lower())
        if found is None or isinstance(found, list):
            missing = True
            return ""
        return str(found)

    result = _VARIABLE.sub(value, text)
    return None if missing else result


def _as_list(value: object) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _one_key(operator: str, actual: object, expected: list[Any]) -> bool | None:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    base = base[: -len("IfExists")] if if_exists else base
    if base == "Null":
        if qualifier:
            return None
        wants_absent = [str(v).lower() == "true" for v in expected]
        return (actual is None) in wants_absent
    if base not in OPERATORS or qualifier not in ("", "ForAnyValue", "ForAllValues"):
        return None
    compare, negated = OPERATORS[base]
    if actual is None or actual == []:
        if qualifier == "ForAllValues":
            return True
        return negated or if_exists

    def holds(value: object) -> bool:
        matched = any(compare(value, e) for e in expected)
        return not matched if negated else matched

    values = _as_list(actual)
    if qualifier == "ForAllValues":
        return all(holds(v) for v in values)
    return any(holds(v) for v in values)


def conditions_hold(conditions: object, context: dict[str, Any], version: str | None = "2012-10-17") -> bool | None:
    """True or False, or None when an operator is not understood (the caller fails closed)."""
    if not conditions:
        return True
    if not isinstance(conditions, dict):
        return None
    for operator, tests in conditions.items():
        if not isinstance(tests, dict):
            return None
        for key, expected in tests.items():
            values: list[Any] = []
            for e in _as_list(expected):
                text = substitute(str(e), context, version) if isinstance(e, str) else e
                if text is not None:
                    values.append(text)
            held = _one_key(operator, context.get(key.lower()), values)
            if held is None:
                return None
            if not held:
                return False
    return True
