"""List sizes observed in the data, as the cost estimate uses them (docs/security.md).

A snapshot holds, for each observation (a relation's largest fan-out, a root list's row
count), the largest size the data had when it was taken. The estimate assumes a list is as
long as its snapshot size plus a margin, never longer than the size declared next to the
field; without a snapshot (none taken yet, or the last refresh failed) it assumes the
declared size.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

# The margin covers what the data may grow by before the next refresh: a quarter more for
# lists that grow in proportion to the club, and five more for lists that are empty or tiny
# when observed (a working group's first members). Larger, it would refuse ordinary
# questions earlier; smaller, more would pass the estimate and be stopped while they run
# (the budget is enforced on the objects produced as well: schema/production.py).
GROWTH_SHARE = 4  # observed / 4, rounded up: a quarter more
GROWTH_SLACK = 5


def with_margin(observed: int) -> int:
    """The length the estimate assumes for a list observed at `observed` items at most."""
    return observed + math.ceil(observed / GROWTH_SHARE) + GROWTH_SLACK


@dataclass(frozen=True, slots=True, eq=False)
class ObservedSizes:
    """One refresh's observations: name → the largest size seen. Compared by identity: each
    refresh makes a new one, and measurements remembered under an older one are not reused."""

    sizes: Mapping[str, int]
    observed_at: datetime

    def expected(self, name: str, declared: int) -> int:
        """The length the estimate assumes for a list declared at `declared` at most and
        observed as `name` (declared when this snapshot has no such observation)."""
        observed = self.sizes.get(name)
        return declared if observed is None else min(declared, with_margin(observed))
