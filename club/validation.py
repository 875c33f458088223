"""Input checks shared by mutations: lengths, e-mail and web addresses. Each returns the
cleaned value or raises an INVALID_INPUT refusal naming the field."""

from typing import Any

from email_validator import EmailNotValidError, validate_email
from pydantic import HttpUrl, TypeAdapter, ValidationError
from slugify import slugify

from club.errors import ErrorCode, PayloadRefusal, RequestError

_HTTP_URL = TypeAdapter(HttpUrl)


def text(value: str, field: str, *, min_length: int = 1, max_length: int) -> str:
    cleaned = value.strip()
    if not min_length <= len(cleaned) <= max_length:
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT,
            f"`{field}` must be {min_length} to {max_length} characters long.",
            field,
        )
    return cleaned


def optional_text(value: str | None, field: str, *, max_length: int) -> str | None:
    if value is None or not value.strip():
        return None
    return text(value, field, max_length=max_length)


def email(value: str | None, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        # Syntax only: the club's data may name addresses whose domain is not reachable here.
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT, f"`{field}` is not an e-mail address: {error}", field
        ) from None


def web_address(value: str | None, field: str) -> str | None:
    if value is None or not value.strip():
        return None
    cleaned = value.strip()
    try:
        _HTTP_URL.validate_python(cleaned)
    except ValidationError:
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT, f"`{field}` must be an http:// or https:// address.", field
        ) from None
    if len(cleaned) > 300:
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT, f"`{field}` is longer than 300 characters.", field
        )
    return cleaned


SLUG_LENGTH = 80  # the slug columns' length


def slug_for(name: str, *, max_length: int = SLUG_LENGTH) -> str:
    slug = slugify(name, max_length=max_length, word_boundary=True)
    if not slug:
        raise PayloadRefusal(ErrorCode.INVALID_INPUT, "The name needs letters or digits.", "name")
    return slug


def country_code_of(value: str) -> str:
    """An ISO 3166-1 alpha-2 code as given (any case, spaces around), as stored."""
    return value.strip().upper()


def exactly_one_key(**keys: Any) -> tuple[str, Any]:
    """The one key given of several (`id` or `slug`), or BAD_USER_INPUT."""
    given = [(name, value) for name, value in keys.items() if value is not None]
    if len(given) != 1:
        names = " or ".join(f"`{name}`" for name in keys)
        raise RequestError.bad_input(f"Give exactly one of {names}.")
    return given[0]
