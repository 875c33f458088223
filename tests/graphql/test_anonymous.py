"""The ANONYMOUS role through the schema: every restricted field null (as for PARTNER), every
mutation refused FORBIDDEN before it runs and, were that refusal gone, by its own role check;
nothing changes. The lists come from the schema (tests/anonymous.py)."""

from typing import Any

import pytest

from club.access import ANONYMOUS, Principal
from club.enums import Role
from db.seed import seed
from schema import limits
from tests.anonymous import MUTATIONS, RESTRICTED, Mutation, Restricted, probes, row_counts

ADMIN = Principal(Role.ADMIN)

MUTATION_REFUSED = {
    "message": "A request without a token may only read public fields; send "
    "`Authorization: Bearer <token>` to run a mutation.",
    "extensions": {"code": "FORBIDDEN"},
}


def test_the_lists_hold_what_they_must() -> None:
    # Not a count to keep up to date: the fields and mutations the issue names are there.
    assert {"Organization.contactEmail", "Event.meetingUrl", "Supporter.commitment"} <= {
        case.id for case in RESTRICTED
    }
    assert {"registerOrganization", "inviteOrganization", "proposeInitiative"} <= {
        case.name for case in MUTATIONS
    }


@pytest.mark.parametrize("case", RESTRICTED, ids=lambda case: case.id)
async def test_every_restricted_field_is_null_for_anonymous_as_for_a_partner(
    session_factory: Any, run: Any, case: Restricted
) -> None:
    await seed(session_factory)
    shown = await run(case.query, principal=ADMIN)
    assert "errors" not in shown, shown
    values = list(probes(shown["data"]))
    assert values and all(value is not None for value in values), shown  # there to hide
    for principal in (ANONYMOUS, Principal(Role.PARTNER)):
        hidden = await run(case.query, principal=principal)
        assert "errors" not in hidden, hidden
        assert list(probes(hidden["data"])) == [None] * len(values), (principal, hidden)


@pytest.mark.parametrize("case", MUTATIONS, ids=lambda case: case.name)
async def test_every_mutation_is_refused_before_it_runs(
    session_factory: Any, run: Any, case: Mutation
) -> None:
    await seed(session_factory)
    before = await row_counts(session_factory)
    assert await run(case.query, principal=ANONYMOUS) == {
        "data": None,
        "errors": [MUTATION_REFUSED],
    }
    assert await row_counts(session_factory) == before


@pytest.mark.parametrize("case", MUTATIONS, ids=lambda case: case.name)
async def test_every_mutation_refuses_anonymous_by_itself_too(
    session_factory: Any, run: Any, case: Mutation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the refusal before execution, each mutation's own role check refuses."""
    monkeypatch.setattr(
        limits, "anonymous_mutation_refusal", lambda role, document, operation_name: None
    )
    await seed(session_factory)
    before = await row_counts(session_factory)
    response = await run(case.query, principal=ANONYMOUS)
    assert response["data"] is None, response
    assert [(error["path"], error["extensions"]) for error in response["errors"]] == [
        ([case.name], {"code": "FORBIDDEN"})
    ]
    assert "ANONYMOUS role may not do this" in response["errors"][0]["message"]
    assert await row_counts(session_factory) == before


async def test_the_viewer_says_anonymous(run: Any) -> None:
    assert await run("{ viewer { role organization { id } } }", principal=ANONYMOUS) == {
        "data": {"viewer": {"role": "ANONYMOUS", "organization": None}}
    }
