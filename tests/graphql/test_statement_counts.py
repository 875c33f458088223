"""No N+1: walking relations costs one statement per relation, whatever the data size."""

from typing import Any

import pytest

from club.access import Principal
from club.enums import Role
from club.settings import Settings
from tests.factories import build_club

WALK = """
query Walk {
  countries {
    code
    organizations {
      name
      attendances { role event { title host { name } } }
    }
  }
  workingGroups { name members { name country { code } } }
}
"""

ADMIN = Principal(Role.ADMIN)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The walk is deliberately the whole graph, far over the default cost budgets.
    return settings.model_copy(update={"cost_budget_admin": 10_000_000})


# countries, their organizations, those organizations' attendances, the attended events,
# the events' hosts; working groups, their members, the members' countries.
WALK_STATEMENTS = 8


async def _count_walk(run: Any, count_statements: Any) -> tuple[int, dict[str, Any]]:
    await run(WALK, principal=ADMIN)  # warm the pool: connecting may send statements of its own
    with count_statements() as log:
        response = await run(WALK, principal=ADMIN)
    assert "errors" not in response
    return log.count, response


def _sizes(response: dict[str, Any]) -> tuple[int, int, int]:
    countries = response["data"]["countries"]
    organizations = [o for c in countries for o in c["organizations"]]
    attendances = [a for o in organizations for a in o["attendances"]]
    members = [m for g in response["data"]["workingGroups"] for m in g["members"]]
    return len(organizations), len(attendances), len(members)


async def test_walk_costs_one_statement_per_relation_and_not_more_with_double_the_data(
    session_factory: Any, run: Any, count_statements: Any
) -> None:
    await build_club(session_factory, organizations=120, events=60, working_groups=10)
    statements, response = await _count_walk(run, count_statements)
    assert _sizes(response) == (120, 180, 50)
    assert statements == WALK_STATEMENTS

    await build_club(session_factory, organizations=120, events=60, working_groups=10)
    statements, response = await _count_walk(run, count_statements)
    assert _sizes(response) == (240, 360, 100)
    assert statements == WALK_STATEMENTS
