"""An Idempotency-Key on a mutation over HTTP: a retry gets the first answer and changes
nothing, another operation under the key is refused, keys are per caller and expire, and a
first try that committed but never answered is answered from what it recorded."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

import db.idempotency
import resolvers.loaders
from club.enums import AttendanceRole, Role
from club.settings import Settings
from db import models
from schema.ids import encode_id
from tests.factories import T0, add, country_ids, event, organization
from tests.http.conftest import PREFLIGHT, MakeToken, bearer, open_client, slow_loader_fetch

REGISTER = """
mutation($name: String!) {
  registerOrganization(input: {name: $name, countryCode: "MD", kind: NGO}) {
    organization { id slug name }
    errors { code field }
  }
}
"""
TWICE = """
mutation($name: String!) {
  first: registerOrganization(input: {name: $name, countryCode: "MD", kind: NGO}) {
    organization { id slug }
  }
  second: registerOrganization(input: {name: $name, countryCode: "MD", kind: NGO}) {
    organization { id slug }
  }
}
"""
INVITE = """
mutation($invitee: ID!) {
  inviteOrganization(input: {inviteeId: $invitee}) {
    invitation { id status } errors { code }
  }
}
"""


async def post(
    client: httpx.AsyncClient,
    token: str,
    query: str,
    variables: dict[str, Any],
    key: str | None,
    **extra: Any,
) -> httpx.Response:
    headers = bearer(token) | ({} if key is None else {"Idempotency-Key": key})
    return await client.post(
        "/graphql", json={"query": query, "variables": variables, **extra}, headers=headers
    )


async def registered(session_factory: Any, name: str) -> int:
    async with session_factory() as session:
        return int(
            await session.scalar(select(func.count()).where(models.Organization.name == name)) or 0
        )


async def activity_rows(session_factory: Any) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(func.count(models.ActivityLogEntry.id))) or 0)


def refused(code: str, message: str) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}


REUSED = refused(
    "IDEMPOTENCY_KEY_REUSED",
    "This idempotency key was used for another operation; use a new key for a new one.",
)


async def test_a_retry_with_the_same_key_gets_the_first_answer_and_changes_nothing(
    client: httpx.AsyncClient, session_factory: Any, make_token: MakeToken
) -> None:
    admin = await make_token(Role.ADMIN)
    first = await post(client, admin, REGISTER, {"name": "Balti Lawyers"}, "register-1")
    assert first.status_code == 200
    body = first.json()
    assert body["data"]["registerOrganization"]["organization"]["slug"] == "balti-lawyers"
    logged = await activity_rows(session_factory)
    for _ in range(3):
        again = await post(client, admin, REGISTER, {"name": "Balti Lawyers"}, "register-1")
        assert (again.status_code, again.json()) == (200, body)
    assert await registered(session_factory, "Balti Lawyers") == 1
    assert await activity_rows(session_factory) == logged
    # Without a key (or with another one) the same mutation is a new one.
    other = await post(client, admin, REGISTER, {"name": "Balti Lawyers"}, "register-2")
    assert other.json()["data"]["registerOrganization"]["organization"]["slug"] == (
        "balti-lawyers-md"
    )
    assert await registered(session_factory, "Balti Lawyers") == 2


async def test_the_key_with_another_operation_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, session_factory: Any, make_token: MakeToken
) -> None:
    admin = await make_token(Role.ADMIN)
    await post(client, admin, REGISTER, {"name": "Balti Lawyers"}, "k")
    logged = await activity_rows(session_factory)
    other_variables = await post(client, admin, REGISTER, {"name": "Chisinau Lawyers"}, "k")
    assert (other_variables.status_code, other_variables.json()) == (200, REUSED)
    other_document = await post(client, admin, TWICE, {"name": "Balti Lawyers"}, "k")
    assert other_document.json() == REUSED
    named = await post(
        client,
        admin,
        "mutation Named" + REGISTER.removeprefix("\nmutation"),
        {"name": "Balti Lawyers"},
        "k",
    )
    assert named.json() == REUSED
    as_graphql_response = await client.post(
        "/graphql",
        json={"query": REGISTER, "variables": {"name": "Chisinau Lawyers"}},
        headers=bearer(admin)
        | {"Idempotency-Key": "k", "accept": "application/graphql-response+json"},
    )
    assert (as_graphql_response.status_code, as_graphql_response.json()) == (
        400,
        {"errors": REUSED["errors"]},
    )
    assert await registered(session_factory, "Chisinau Lawyers") == 0
    assert await registered(session_factory, "Balti Lawyers") == 1
    assert await activity_rows(session_factory) == logged


async def test_keys_belong_to_one_caller(
    client: httpx.AsyncClient, session_factory: Any, make_token: MakeToken
) -> None:
    first, second = await make_token(Role.ADMIN), await make_token(Role.ADMIN)
    one = await post(client, first, REGISTER, {"name": "Balti Lawyers"}, "shared")
    two = await post(client, second, REGISTER, {"name": "Balti Lawyers"}, "shared")
    assert one.json() != two.json()
    assert await registered(session_factory, "Balti Lawyers") == 2


async def test_an_organizations_tokens_share_its_keys(
    client: httpx.AsyncClient, session_factory: Any, make_token: MakeToken
) -> None:
    md = (await country_ids(session_factory, "MD"))["MD"]
    member = organization(md, member=True, slug="member")
    guest = organization(md, slug="guest")
    await add(session_factory, member, guest)
    admin = await make_token(Role.ADMIN)
    guest_id = (
        await post(client, admin, '{ organization(slug: "guest") { id } }', {}, None)
    ).json()["data"]["organization"]["id"]
    # The guest has attended no event: the refusal is the answer, remembered as one.
    tokens = [await make_token(Role.ORGANIZATION, organization_id=member.id) for _ in range(2)]
    answers = [
        (await post(client, token, INVITE, {"invitee": guest_id}, "invite-1")).json()
        for token in tokens
    ]
    assert (
        answers
        == [
            {
                "data": {
                    "inviteOrganization": {
                        "invitation": None,
                        "errors": [{"code": "GUEST_ATTENDANCE_REQUIRED"}],
                    }
                }
            }
        ]
        * 2
    )
    async with session_factory() as session:
        rows = (await session.execute(select(models.IdempotencyKey))).scalars().all()
    assert [(row.scope, row.key, row.results, row.response) for row in rows] == [
        (f"organization:{member.id}", "invite-1", {}, answers[0])
    ]


async def test_a_first_try_that_committed_but_never_answered_is_answered_from_its_record(
    client: httpx.AsyncClient,
    session_factory: Any,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As when the operation's timeout fires just after the commit: the answer was never
    stored, but each mutation wrote down what it returned in its own transaction."""
    admin = await make_token(Role.ADMIN)

    async def lost(*args: Any, **kwargs: Any) -> None:
        return None

    monkeypatch.setattr(db.idempotency, "store_response", lost)
    first = (await post(client, admin, TWICE, {"name": "Balti Lawyers"}, "lost")).json()
    monkeypatch.undo()
    logged = await activity_rows(session_factory)
    again = await post(client, admin, TWICE, {"name": "Balti Lawyers"}, "lost")
    assert again.json() == first
    assert [first["data"][field]["organization"]["slug"] for field in ("first", "second")] == [
        "balti-lawyers",
        "balti-lawyers-md",
    ]
    assert await registered(session_factory, "Balti Lawyers") == 2
    assert await activity_rows(session_factory) == logged
    # The retry stored the answer: a third try reads it.
    async with session_factory() as session:
        row = await session.scalar(select(models.IdempotencyKey))
    assert row is not None
    assert (row.key, row.response, sorted(row.results)) == ("lost", first, ["first", "second"])


async def test_a_key_is_free_again_once_it_expired(
    client: httpx.AsyncClient, session_factory: Any, make_token: MakeToken
) -> None:
    admin = await make_token(Role.ADMIN)
    await post(client, admin, REGISTER, {"name": "Balti Lawyers"}, "old")
    async with session_factory() as session, session.begin():
        row = await session.scalar(select(models.IdempotencyKey))
        assert row is not None
        assert row.expires_at - row.created_at == timedelta(hours=24)
        await session.execute(
            update(models.IdempotencyKey).values(
                expires_at=datetime.now(UTC) - timedelta(seconds=1)
            )
        )
    fresh = await post(client, admin, REGISTER, {"name": "Chisinau Lawyers"}, "old")
    assert fresh.json()["data"]["registerOrganization"]["errors"] == []
    assert await registered(session_factory, "Chisinau Lawyers") == 1


async def test_concurrent_tries_with_one_key_make_one_change(
    client: httpx.AsyncClient,
    session_factory: Any,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two sends at once, each on its own connection: both find no earlier try, so both run;
    the second's claim waits for the first's transaction and then answers from it."""
    admin = await make_token(Role.ADMIN)
    both_looked = asyncio.Barrier(2)
    lookup = db.idempotency.earlier

    async def earlier_then_wait(*args: Any) -> Any:
        found = await lookup(*args)
        await both_looked.wait()
        return found

    monkeypatch.setattr(db.idempotency, "earlier", earlier_then_wait)
    answers = await asyncio.gather(
        *(post(client, admin, REGISTER, {"name": "Balti Lawyers"}, "twice") for _ in range(2))
    )
    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["data"]["registerOrganization"]["organization"]["slug"] == (
        "balti-lawyers"
    )
    assert await registered(session_factory, "Balti Lawyers") == 1


async def test_a_malformed_key_or_a_key_on_a_batch_is_refused(
    client: httpx.AsyncClient, session_factory: Any, make_token: MakeToken
) -> None:
    admin = await make_token(Role.ADMIN)
    too_long = await post(client, admin, REGISTER, {"name": "Balti Lawyers"}, "k" * 101)
    assert too_long.json() == refused(
        "IDEMPOTENCY_KEY_INVALID",
        "The Idempotency-Key header must be 1 to 100 visible ASCII characters.",
    )
    both = await post(
        client,
        admin,
        REGISTER,
        {"name": "Balti Lawyers"},
        "a",
        extensions={"idempotencyKey": "b"},
    )
    assert both.json() == refused(
        "IDEMPOTENCY_KEY_INVALID",
        "The Idempotency-Key header and extensions.idempotencyKey differ; send one key.",
    )
    assert await registered(session_factory, "Balti Lawyers") == 0


async def test_a_key_in_the_extensions_and_a_key_on_a_query(
    client: httpx.AsyncClient, session_factory: Any, make_token: MakeToken
) -> None:
    admin = await make_token(Role.ADMIN)
    sent = {"extensions": {"idempotencyKey": "in-extensions"}}
    first = await post(client, admin, REGISTER, {"name": "Balti Lawyers"}, None, **sent)
    again = await post(client, admin, REGISTER, {"name": "Balti Lawyers"}, "in-extensions")
    assert again.json() == first.json()
    assert await registered(session_factory, "Balti Lawyers") == 1
    # A query is safe to repeat: its key is not recorded.
    query = await post(client, admin, "{ viewer { role } }", {}, "a-query")
    assert query.json() == {"data": {"viewer": {"role": "ADMIN"}}}
    async with session_factory() as session:
        keys = (await session.scalars(select(models.IdempotencyKey.key))).all()
    assert keys == ["in-extensions"]


async def test_in_a_batch_each_mutation_carries_its_own_key(
    settings: Settings, session_factory: Any, make_token: MakeToken
) -> None:
    admin = await make_token(Role.ADMIN)
    items = [
        {
            "query": REGISTER,
            "variables": {"name": name},
            "extensions": {"idempotencyKey": name.replace(" ", "-")},
        }
        for name in ("Balti Lawyers", "Chisinau Lawyers")
    ]
    async for client in open_client(settings.model_copy(update={"max_batch_operations": 3})):
        one_header = await client.post(
            "/graphql", json=items, headers=bearer(admin) | {"Idempotency-Key": "batch"}
        )
        assert (one_header.status_code, one_header.json()) == (
            400,
            {
                "data": None,
                "errors": [
                    {
                        "message": "An Idempotency-Key header names one operation, not a "
                        "batch: give each mutation its own key in its "
                        "extensions.idempotencyKey.",
                        "extensions": {"code": "IDEMPOTENCY_KEY_INVALID"},
                    }
                ],
            },
        )
        first = await client.post("/graphql", json=items, headers=bearer(admin))
        again = await client.post("/graphql", json=items, headers=bearer(admin))
        assert again.json() == first.json()
    assert await registered(session_factory, "Balti Lawyers") == 1
    assert await registered(session_factory, "Chisinau Lawyers") == 1


REGISTER_WITH_COUNTRY = """
mutation($name: String!) {
  registerOrganization(input: {name: $name, countryCode: "MD", kind: NGO}) {
    organization { slug country { code } }
  }
}
"""


async def test_a_mutation_that_committed_as_its_timeout_fired_is_not_done_twice(
    settings: Settings,
    session_factory: Any,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
    engine: Any,
) -> None:
    """The mutation commits; reading its payload's country then outlasts the timeout, so the
    client gets OPERATION_TIMEOUT and retries: the retry makes no second organization."""
    admin = await make_token(Role.ADMIN)
    original = resolvers.loaders._fetch
    # The timeout must fire after the commit, in the slow read (30 s): 3 s leaves the
    # mutation itself room on a loaded machine (with 0.5 s, a CI run timed out before it).
    async for client in open_client(settings.model_copy(update={"execution_timeout": 3.0})):
        monkeypatch.setattr(resolvers.loaders, "_fetch", slow_loader_fetch(engine))
        first = await post(client, admin, REGISTER_WITH_COUNTRY, {"name": "Balti Lawyers"}, "t")
        assert first.json()["errors"][0]["extensions"] == {"code": "OPERATION_TIMEOUT"}
        monkeypatch.setattr(resolvers.loaders, "_fetch", original)
        assert await registered(session_factory, "Balti Lawyers") == 1
        again = await post(client, admin, REGISTER_WITH_COUNTRY, {"name": "Balti Lawyers"}, "t")
        assert again.json() == {
            "data": {
                "registerOrganization": {
                    "organization": {"slug": "balti-lawyers", "country": {"code": "MD"}}
                }
            }
        }
    assert await registered(session_factory, "Balti Lawyers") == 1


# Found by review: the key of one operation of a batch must not reach another's mutations.
async def test_a_batch_of_keyed_operations_runs_every_mutation_under_its_own_key(
    settings: Settings, session_factory: Any, make_token: MakeToken
) -> None:
    admin = await make_token(Role.ADMIN)
    items = [
        {"query": TWICE, "variables": {"name": name}, "extensions": {"idempotencyKey": key}}
        for name, key in (("Balti Lawyers", "k1"), ("Chisinau Lawyers", "k2"))
    ]
    async for client in open_client(settings.model_copy(update={"max_batch_operations": 3})):
        answers = (await client.post("/graphql", json=items, headers=bearer(admin))).json()
        assert [
            sorted({answer["data"][field]["organization"]["slug"][:5] for field in answer["data"]})
            for answer in answers
        ] == [["balti"], ["chisi"]]
    assert (
        await registered(session_factory, "Balti Lawyers"),
        await registered(session_factory, "Chisinau Lawyers"),
    ) == (2, 2)
    async with session_factory() as session:
        rows = (await session.scalars(select(models.IdempotencyKey))).all()
    assert {row.key: sorted(row.results) for row in rows} == {
        "k1": ["first", "second"],
        "k2": ["first", "second"],
    }


async def test_a_mutation_by_get_is_not_answered_from_its_key(
    client: httpx.AsyncClient, make_token: MakeToken
) -> None:
    admin = await make_token(Role.ADMIN)
    await post(client, admin, REGISTER, {"name": "Balti Lawyers"}, "g")
    replayed = await client.get(
        "/graphql",
        params={"query": REGISTER, "variables": '{"name": "Balti Lawyers"}'},
        headers=bearer(admin) | {"Idempotency-Key": "g"} | PREFLIGHT,
    )
    assert (replayed.status_code, replayed.json()["errors"][0]["extensions"]["code"]) == (
        405,
        "METHOD_NOT_ALLOWED",
    )


async def test_a_refused_try_does_not_write_over_a_committed_one(
    client: httpx.AsyncClient,
    session_factory: Any,
    make_token: MakeToken,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Try A is refused (the guest has not attended yet); the guest attends; concurrent try B
    with the same key invites and commits. A's answer is stored first: it must not become
    the answer to B's committed change."""
    md = (await country_ids(session_factory, "MD"))["MD"]
    member = organization(md, member=True, slug="member")
    guest = organization(md, slug="guest")
    await add(session_factory, member, guest)
    token = await make_token(Role.ORGANIZATION, organization_id=member.id)
    guest_id = encode_id("Organization", guest.id)
    store = db.idempotency.store_response
    b_waits, a_stored = asyncio.Event(), asyncio.Event()
    tries: list[asyncio.Task[httpx.Response]] = []

    async def in_order(*args: Any, **kwargs: Any) -> None:
        if not tries:  # A, refused: meanwhile the guest attends and B runs
            past = event(member.id, starts_at=T0)
            await add(session_factory, past)
            await add(
                session_factory,
                models.Attendance(
                    event_id=past.id,
                    organization_id=guest.id,
                    role=AttendanceRole.GUEST,
                    recorded_at=T0 + timedelta(minutes=5),
                ),
            )
            tries.append(
                asyncio.ensure_future(post(client, token, INVITE, {"invitee": guest_id}, "k"))
            )
            await b_waits.wait()
            await store(*args, **kwargs)
            a_stored.set()
        else:  # B, committed: store after A
            b_waits.set()
            await a_stored.wait()
            await store(*args, **kwargs)

    monkeypatch.setattr(db.idempotency, "store_response", in_order)
    refused = (await post(client, token, INVITE, {"invitee": guest_id}, "k")).json()
    invited = (await tries[0]).json()
    monkeypatch.undo()
    assert refused["data"]["inviteOrganization"]["errors"] == [
        {"code": "GUEST_ATTENDANCE_REQUIRED"}
    ]
    assert invited["data"]["inviteOrganization"]["errors"] == []
    retry = (await post(client, token, INVITE, {"invitee": guest_id}, "k")).json()
    assert retry == invited
    async with session_factory() as session:
        assert await session.scalar(select(func.count(models.Invitation.id))) == 1
