"""Times given as input: with a UTC offset, made UTC (as every response gives times).

One parser, `as_utc`; a time in a query's argument that is not one is a request error
(`utc_argument`), in a mutation's input a payload refusal (`utc_time`).
"""

from datetime import UTC, datetime

from club.errors import ErrorCode, PayloadRefusal, RequestError

TIME_INPUT = "Give a time with a UTC offset, e.g. 2021-10-28T12:00:00Z, within the years 1 to 9999."


def as_utc(moment: datetime) -> datetime | None:
    """`moment` in UTC; None when it has no offset or falls outside the years 1 to 9999 once
    in UTC."""
    if moment.tzinfo is None:
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def utc_time(moment: datetime, field: str) -> datetime:
    """A time given as mutation input, in UTC, or INVALID_INPUT naming `field`."""
    converted = as_utc(moment)
    if converted is None:
        raise PayloadRefusal(ErrorCode.INVALID_INPUT, TIME_INPUT, field)
    return converted


def utc_argument(moment: datetime) -> datetime:
    """A time given as a field's argument (a filter), in UTC, or BAD_USER_INPUT."""
    converted = as_utc(moment)
    if converted is None:
        raise RequestError.bad_input(TIME_INPUT)
    return converted
