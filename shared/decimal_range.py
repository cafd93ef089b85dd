"""A regular expression for the decimal strings a bounded decimal field accepts.

A decimal input is a JSON number or a decimal string (see :class:`shared.schemas.DecimalText`). JSON Schema can
bound the number (``minimum``, ``maximum``) but not the string, so a client validating against the OpenAPI
document would take ``"5"`` for a rate between 0 and 1 that the service then refuses with 422. This module
writes the bounds into the string branch's ``pattern``: the pattern matches exactly the strings the service
accepts — sign, range (inclusive or exclusive), digits before the point and places after it, counted as the
service counts them (leading zeros and trailing zeros of the fraction do not count).

The pattern uses only what ECMA-262 and Python's ``re`` share (groups, classes, lookahead), so JavaScript,
Python and Java validators read it alike.
"""

from __future__ import annotations

from decimal import Decimal

#: a decimal as text: optional minus, up to 24 digits, optional fraction of up to 12 digits
DECIMAL_TEXT_BODY = r"-?[0-9]{1,24}(?:\.[0-9]{1,12})?"


def _parts(value: Decimal) -> tuple[str, str]:
    """Integer digits without leading zeros ("" for zero) and fraction digits without trailing zeros."""
    text = format(abs(Decimal(value)).normalize(), "f")
    whole, _, frac = text.partition(".")
    return whole.lstrip("0"), frac.rstrip("0")


def _alt(options: list[str]) -> str:
    options = [o for o in options if o is not None]
    if not options:
        return "(?!)"  # matches nothing
    if len(options) == 1:
        return options[0]
    return "(?:" + "|".join(options) + ")"


def _digit_class(low: int, high: int) -> str | None:
    if low > high:
        return None
    if low == high:
        return str(low)
    return f"[{low}-{high}]"


# integer parts are matched as ``0*`` then the digits without leading zeros (W = the stripped digits)


def _int_less(bound: str) -> str:
    """Stripped integer digits (first digit non-zero, or none) less than ``bound`` (stripped)."""
    n = len(bound)
    options: list[str] = []
    if n >= 1:
        options.append("")  # zero
    if n >= 2:
        options.append(f"[1-9][0-9]{{0,{n - 2}}}")  # fewer digits
    for k in range(n):
        low = 1 if k == 0 else 0
        cls = _digit_class(low, int(bound[k]) - 1)
        if cls is not None:
            options.append(bound[:k] + cls + (f"[0-9]{{{n - k - 1}}}" if n - k - 1 else ""))
    return _alt(options)


def _int_greater(bound: str) -> str:
    """Stripped integer digits greater than ``bound`` (stripped)."""
    n = len(bound)
    options = [f"[1-9][0-9]{{{n},}}"]  # more digits
    for k in range(n):
        cls = _digit_class(int(bound[k]) + 1, 9)
        if cls is not None:
            options.append(bound[:k] + cls + (f"[0-9]{{{n - k - 1}}}" if n - k - 1 else ""))
    return _alt(options)


def _frac_less(bound: str, *, equal: bool) -> str:
    """Fraction digits (possibly none) less than (or equal to) ``bound`` read as a fraction."""
    options: list[str] = []
    for k in range(len(bound)):
        cls = _digit_class(0, int(bound[k]) - 1)
        if cls is not None:
            options.append(bound[:k] + cls + "[0-9]*")
        options.append(bound[:k] + "0*")  # a prefix of the bound, then zeros: less (the bound goes on non-zero)
    if equal:
        options.append(bound + "0*")
    return _alt(options)


def _frac_greater(bound: str, *, equal: bool) -> str:
    """Fraction digits greater than (or equal to) ``bound`` read as a fraction."""
    options: list[str] = []
    for k in range(len(bound)):
        cls = _digit_class(int(bound[k]) + 1, 9)
        if cls is not None:
            options.append(bound[:k] + cls + "[0-9]*")
    options.append(bound + "0*[1-9][0-9]*")
    if equal:
        options.append(bound + "0*")
    return _alt(options)


def _magnitude_at_most(bound: Decimal, *, strict: bool) -> str:
    whole, frac = _parts(bound)
    smaller = _int_less(whole)
    options = [f"0*{smaller}(?:\\.[0-9]+)?"] if smaller != "(?!)" else []
    if not (strict and not frac):  # (strictly below a whole bound: its integer part with zeros is equal)
        options.append(f"0*{whole}(?:\\.{_frac_less(frac, equal=not strict)})?" if frac else f"0*{whole}(?:\\.0+)?")
    if strict and not frac:
        return _alt(options)
    if frac:
        # equal integer part and no fraction at all: less than the bound (which has a fraction)
        options.append(f"0*{whole}")
    return _alt(options)


def _magnitude_at_least(bound: Decimal, *, strict: bool) -> str:
    whole, frac = _parts(bound)
    options = [f"0*{_int_greater(whole)}(?:\\.[0-9]+)?"]
    if frac:
        options.append(f"0*{whole}\\.{_frac_greater(frac, equal=not strict)}")
    elif strict:
        options.append(f"0*{whole}\\.0*[1-9][0-9]*")
    else:
        options.append(f"0*{whole}(?:\\.[0-9]+)?")
    return _alt(options)


def _magnitude_shape(whole_digits: int | None, places: int | None) -> str:
    """Digits before the point at most ``whole_digits`` (leading zeros not counted) and places after it at most
    ``places`` (trailing zeros not counted)."""
    whole = f"0*(?:[1-9][0-9]{{0,{whole_digits - 1}}})?" if whole_digits else "0*" if whole_digits == 0 else "[0-9]+"
    if places is None:
        frac = "[0-9]+"
    elif places == 0:
        frac = "0+"
    else:
        frac = f"[0-9]{{0,{places}}}0*"
    return f"{whole}(?:\\.{frac})?"


def _interval(low: Decimal | None, low_strict: bool, high: Decimal | None, high_strict: bool) -> str:
    """Magnitudes in the interval (both ends non-negative or None)."""
    checks = []
    if low is not None and (low > 0 or low_strict):
        checks.append(_magnitude_at_least(low, strict=low_strict))
    if high is not None:
        checks.append(_magnitude_at_most(high, strict=high_strict))
    return "".join(f"(?:{c})$" if i == len(checks) - 1 else f"(?=(?:{c})$)" for i, c in enumerate(checks)) or ".*"


def decimal_pattern(
    *,
    ge: Decimal | None = None,
    gt: Decimal | None = None,
    le: Decimal | None = None,
    lt: Decimal | None = None,
    max_digits: int | None = None,
    decimal_places: int | None = None,
) -> str:
    """The pattern of the decimal strings a field with these bounds accepts."""
    low, low_strict = (gt, True) if gt is not None else (ge, False)
    high, high_strict = (lt, True) if lt is not None else (le, False)
    whole_digits = max_digits - decimal_places if max_digits is not None and decimal_places is not None else None
    if whole_digits is None and max_digits is not None:
        whole_digits = max_digits
    shape = f"(?={_magnitude_shape(whole_digits, decimal_places)}$)"
    branches = []
    # non-negative strings: [max(low, 0), high]
    if high is None or high > 0 or (high == 0 and not high_strict):
        if low is None or low < 0:
            branches.append(shape + _interval(None, False, high, high_strict))
        else:
            branches.append(shape + _interval(low, low_strict, high, high_strict))
    # strings with a minus: magnitude in [max(-high, 0), -low]
    if low is None or low < 0 or (low == 0 and not low_strict):
        neg_high = None if low is None else -low
        if high is None or high > 0:
            neg = _interval(None, False, neg_high, low_strict)
        else:
            neg = _interval(-high, high_strict, neg_high, low_strict)
        if low is not None and low == 0:
            neg = "0+(?:\\.0+)?$"  # "-0" is zero
        branches.append("-" + shape + neg)
    return f"^(?={DECIMAL_TEXT_BODY}$)(?:{'|'.join(branches)})"
