"""Web addresses (`website`, `meetingUrl`) are stored and served normalized, on every path
that writes one; an address that does not normalize is refused and nothing changes."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from club.access import Principal
from club.enums import Role
from db.models import Event, Organization
from schema.ids import encode_id
from tests.factories import add, country_ids, event, organization
from tests.snapshots import snapshot

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
ADMIN = Principal(Role.ADMIN)
REGISTER = """
mutation($input: RegisterOrganizationInput!) {
  registerOrganization(input: $input) {
    organization { website } errors { code message field }
  }
}
"""
UPDATE_ORGANIZATION = """
mutation($id: ID!, $input: UpdateOrganizationInput!) {
  updateOrganization(id: $id, input: $input) {
    organization { website } errors { code message field }
  }
}
"""
SCHEDULE = """
mutation($input: ScheduleEventInput!) {
  scheduleEvent(input: $input) { event { meetingUrl } errors { code message field } }
}
"""
UPDATE_EVENT = """
mutation($id: ID!, $input: UpdateEventInput!) {
  updateEvent(id: $id, input: $input) { event { meetingUrl } errors { code message field } }
}
"""
# What a caller types → what is stored and served.
NORMALIZED = [
    (
        "https://Example.ORG/a b\"c'<d>`e{f}?q=\"'<x>#\"'<y>",
        "https://example.org/a%20b%22c%27%3Cd%3E%60e%7Bf%7D?q=%22%27%3Cx%3E#%22%27%3Cy%3E",
    ),
    ("  HTTP://Bălţi.example.md:80  ", "http://xn--bli-9oa59b.example.md/"),
    ("https://example.org:443/path/../x?", "https://example.org/x?"),
    ("https://@example.org/", "https://example.org/"),  # an empty user name is no user name
]
# What a caller types → the refusal's message, for a field named `field`.
REFUSED = [
    ("https://user:secret@example.org/", "`{field}` may not hold a user name or password."),
    ("https://user@example.org/", "`{field}` may not hold a user name or password."),
    (
        "javascript:alert(1)//https://example.org",
        "`{field}` must be an http:// or https:// address.",
    ),
    (
        "data:text/html,<script>alert(1)</script>",
        "`{field}` must be an http:// or https:// address.",
    ),
    ("ftp://files.example.org/", "`{field}` must be an http:// or https:// address."),
    ("https://exa mple.org/", "`{field}` must be an http:// or https:// address."),
    ("//example.org/", "`{field}` must be an http:// or https:// address."),
    ("https://" + "a" * 300 + ".org", "`{field}` is longer than 300 characters."),
    # 295 characters as typed, 303 once its quotes are percent-encoded
    ("https://example.org/" + "x" * 271 + '""""', "`{field}` is longer than 300 characters."),
]


@pytest.fixture
async def existing(session_factory: Any) -> dict[str, str]:
    """An organization with a website and an event it hosts, with a meeting URL."""
    md = (await country_ids(session_factory, "MD"))["MD"]
    host = organization(md, member=True, slug="host", website="https://old.example.org/")
    await add(session_factory, host)
    meeting = event(host.id, meeting_url="https://meet.example.org/old")
    await add(session_factory, meeting)
    return {
        "Organization": encode_id("Organization", host.id),
        "Event": encode_id("Event", meeting.id),
    }


async def write(run: Any, existing: dict[str, str], how: str, typed: str) -> dict[str, Any]:
    """Writes `typed` through the mutation `how` and returns its payload."""
    if how == "registerOrganization":
        query = REGISTER
        variables: dict[str, Any] = {
            "input": {"name": "Bălţi Lawyers", "countryCode": "MD", "kind": "NGO", "website": typed}
        }
    elif how == "updateOrganization":
        query = UPDATE_ORGANIZATION
        variables = {"id": existing["Organization"], "input": {"website": typed}}
    elif how == "scheduleEvent":
        query = SCHEDULE
        variables = {
            "input": {
                "title": "Paralegals in the field",
                "kind": "ONLINE_MEETING",
                "startsAt": "2026-10-02T09:00:00Z",
                "endsAt": "2026-10-02T11:00:00Z",
                "hostId": existing["Organization"],
                "meetingUrl": typed,
            }
        }
    else:
        query = UPDATE_EVENT
        variables = {"id": existing["Event"], "input": {"meetingUrl": typed}}
    response = await run(query, variables, principal=ADMIN, now=NOW)
    payload: dict[str, Any] = response["data"][how]
    return payload


PATHS = [
    ("registerOrganization", "organization", "website"),
    ("updateOrganization", "organization", "website"),
    ("scheduleEvent", "event", "meetingUrl"),
    ("updateEvent", "event", "meetingUrl"),
]


async def stored(session_factory: Any, field: str) -> list[str | None]:
    column = Organization.website if field == "website" else Event.meeting_url
    async with session_factory() as session:
        return list((await session.scalars(select(column).order_by(column))).all())


@pytest.mark.parametrize(("typed", "normalized"), NORMALIZED)
@pytest.mark.parametrize(("how", "entity", "field"), PATHS)
async def test_an_address_is_stored_and_served_normalized(
    session_factory: Any,
    run: Any,
    existing: dict[str, str],
    how: str,
    entity: str,
    field: str,
    typed: str,
    normalized: str,
) -> None:
    payload = await write(run, existing, how, typed)
    assert payload == {entity: {field: normalized}, "errors": []}
    assert normalized in await stored(session_factory, field)
    assert typed not in await stored(session_factory, field)


@pytest.mark.parametrize(("typed", "message"), REFUSED)
@pytest.mark.parametrize(("how", "entity", "field"), PATHS)
async def test_an_address_that_does_not_normalize_is_refused(
    session_factory: Any,
    run: Any,
    existing: dict[str, str],
    how: str,
    entity: str,
    field: str,
    typed: str,
    message: str,
) -> None:
    before = await snapshot(session_factory)
    payload = await write(run, existing, how, typed)
    assert payload == {
        entity: None,
        "errors": [
            {"code": "INVALID_INPUT", "message": message.format(field=field), "field": field}
        ],
    }
    assert await snapshot(session_factory) == before
