"""Input checks: lengths, e-mail and web addresses, country codes. A mutation's input is
refused with INVALID_INPUT in its payload (`text`, `web_address`, ...); a query's or
subscription's argument with BAD_USER_INPUT (`argument`). Each returns the cleaned value
and names the field at fault. docs/security.md lists every maximum length."""

import re
import unicodedata
from typing import Any

from email_validator import EmailNotValidError, validate_email
from pydantic import HttpUrl, TypeAdapter, ValidationError
from slugify import slugify

from club.errors import ErrorCode, PayloadRefusal, RequestError

_HTTP_URL = TypeAdapter(HttpUrl)

# Maximum lengths of free text, in characters after trimming spaces around (the columns'
# lengths where a column holds it).
NAME_LENGTH = 200  # organizations' and working groups' names
TITLE_LENGTH = 200  # events' and action items' titles
DESCRIPTION_LENGTH = 5000
MESSAGE_LENGTH = 2000  # an invitation's message, an event's cancellation reason
IDEMPOTENCY_KEY_LENGTH = 100
WEB_ADDRESS_LENGTH = 300  # as given and once normalized
SEARCH_LENGTH = 200  # no longer text is a substring of a name
SLUG_LENGTH = 80  # the slug columns' length
COUNTRY_CODE_LENGTH = 2  # ISO 3166-1 alpha-2


# What stored text may not hold, whatever a frontend does with it: C0 and C1 control
# characters (a tab and line breaks only where the text may run over several lines) and the
# bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) that make
# text display in another order than it is stored ("Trojan Source", CVE-2021-42574): a name
# holding U+202E shows reversed, and so does what a page puts after it.
_NEVER_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Unicode's LINE SEPARATOR and PARAGRAPH SEPARATOR break a line too.
_LINE_BREAK_OR_TAB = re.compile("[\t\n\r\u2028\u2029]")
_LINE_BREAK = re.compile("\r\n?|[\u2028\u2029]")


def text(
    value: str, field: str, *, min_length: int = 1, max_length: int, multiline: bool = False
) -> str:
    """Free text as stored: trimmed, in Unicode's composed form (NFC, so the same word typed
    on two keyboards is the same text), line breaks as `\\n`. One line (names, titles)
    unless `multiline` (descriptions, messages). Refused with INVALID_INPUT naming the field:
    a character of `_NEVER_IN_TEXT`, a tab or line break in one line, or a length out of
    bounds."""
    cleaned = unicodedata.normalize("NFC", value.strip())
    if multiline:
        cleaned = _LINE_BREAK.sub("\n", cleaned)
    if (refused := _NEVER_IN_TEXT.search(cleaned)) is not None:
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT,
            f"`{field}` may not hold the character U+{ord(refused.group()):04X}.",
            field,
        )
    if not multiline and _LINE_BREAK_OR_TAB.search(cleaned):
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT, f"`{field}` is one line: no tabs or line breaks.", field
        )
    if not min_length <= len(cleaned) <= max_length:
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT,
            f"`{field}` must be {min_length} to {max_length} characters long.",
            field,
        )
    return cleaned


def argument(value: str, field: str, *, max_length: int) -> str:
    """A query's or subscription's argument of free text, as given (trim it first where
    spaces around do not count); longer than `max_length` is BAD_USER_INPUT naming it,
    before it reaches the database."""
    if len(value) > max_length:
        raise RequestError.bad_input(
            f"`{field}` must be at most {max_length} characters long.", field=field
        )
    return value


def search_term(value: str, field: str, *, max_length: int) -> str:
    """A search argument as the text it looks for is stored (`text`): trimmed and in NFC,
    so "e" and a combining accent finds the "é" a name was stored with; BAD_USER_INPUT past
    `max_length` (`argument`)."""
    return unicodedata.normalize("NFC", argument(value.strip(), field, max_length=max_length))


def optional_text(
    value: str | None, field: str, *, max_length: int, multiline: bool = False
) -> str | None:
    """`text`, or None (to clear it) for None or only spaces."""
    if value is None or not value.strip():
        return None
    return text(value, field, max_length=max_length, multiline=multiline)


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


class NotAWebAddress(ValueError):
    """Why a text is not an address that `normalized_web_address` can store."""


# What a normalized address may hold: printable ASCII, none of the characters that end an
# HTML attribute or a tag (the WHATWG serializer percent-encodes all but `'`, done below).
_SAFE_IN_HTML = re.compile(r"[!#-&(-;=?-_a-z|~]+")


def normalized_web_address(value: str) -> str:
    """The http(s) address as a browser reads it (the WHATWG URL Standard, through
    pydantic's `HttpUrl`): scheme and host in lower case, an international host in
    punycode, spaces, quotes and angle brackets percent-encoded; `'` too, which the
    standard leaves in paths. Raises NotAWebAddress for anything else, and for an address
    with a user name or password (a frontend must never show one in a link)."""
    try:
        url = _HTTP_URL.validate_python(value.strip())
    except ValidationError:
        raise NotAWebAddress("must be an http:// or https:// address") from None
    if url.username is not None or url.password is not None:
        raise NotAWebAddress("may not hold a user name or password")
    normalized = str(url).replace("'", "%27")
    if not _SAFE_IN_HTML.fullmatch(normalized):  # the standard encodes them
        raise NotAWebAddress("holds characters that do not normalize")
    return normalized


def web_address(value: str | None, field: str) -> str | None:
    """The normalized address (`normalized_web_address`) to store, or None to clear."""
    if value is None or not value.strip():
        return None
    cleaned = value.strip()
    if len(cleaned) <= WEB_ADDRESS_LENGTH:
        try:
            cleaned = normalized_web_address(cleaned)
        except NotAWebAddress as error:
            raise PayloadRefusal(ErrorCode.INVALID_INPUT, f"`{field}` {error}.", field) from None
    if len(cleaned) > WEB_ADDRESS_LENGTH:
        raise PayloadRefusal(
            ErrorCode.INVALID_INPUT,
            f"`{field}` is longer than {WEB_ADDRESS_LENGTH} characters.",
            field,
        )
    return cleaned


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
