"""Idempotency keys: which retries count as the same operation by the same caller, for how long."""

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta

from club.access import Principal
from club.errors import RequestError

# How long a key is remembered: a client retries within minutes; a day covers a client
# that was offline for the night. After that the key is free again.
KEY_LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 100

HEADER = "Idempotency-Key"
# Where a WebSocket message (and, as an alternative to the header, an HTTP request) carries it.
EXTENSION = "idempotencyKey"


@dataclass(frozen=True, slots=True)
class Claim:
    """One mutation operation sent with a key: the caller's scope, the key, and a digest of
    the operation (document, operation name, variables) that a retry must repeat."""

    scope: str
    key: str
    fingerprint: str


def parse_key(value: object, where: str) -> str:
    """The key as given: 1 to 100 visible ASCII characters; else IDEMPOTENCY_KEY_INVALID."""
    if (
        not isinstance(value, str)
        or not 0 < len(value) <= MAX_KEY_LENGTH
        or not all("!" <= character <= "~" for character in value)
    ):
        raise RequestError(
            "IDEMPOTENCY_KEY_INVALID",
            f"The {where} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters.",
        )
    return value


def chosen_key(header: str | None, extension: object) -> str | None:
    """The operation's key: from the `Idempotency-Key` header or `extensions.idempotencyKey`
    (both may be given only if they agree)."""
    if header is None and extension is None:
        return None
    if header is not None and extension is not None and header != extension:
        raise RequestError(
            "IDEMPOTENCY_KEY_INVALID",
            f"The {HEADER} header and extensions.{EXTENSION} differ; send one key.",
        )
    if header is not None:
        return parse_key(header, f"{HEADER} header")
    return parse_key(extension, f"extensions.{EXTENSION}")


def scope_of(principal: Principal) -> str:
    """Whose keys these are: an organization's (any of its tokens), else the token's own."""
    if principal.organization_id is not None:
        return f"organization:{principal.organization_id}"
    return f"token:{principal.token_id}"


def fingerprint(document: str, operation_name: str | None, variables: object) -> str:
    """The operation's digest: a retry sends the same document, name and variables."""
    canonical = json.dumps(
        [document, operation_name, variables or {}],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def reused() -> RequestError:
    return RequestError(
        "IDEMPOTENCY_KEY_REUSED",
        "This idempotency key was used for another operation; use a new key for a new one.",
    )


def claim_for(
    principal: Principal,
    key: str,
    document: str,
    operation_name: str | None,
    variables: object,
) -> Claim:
    return Claim(scope_of(principal), key, fingerprint(document, operation_name, variables))
