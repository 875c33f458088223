"""Request budgets: what a rate limiter answers (`Verdict`), what every limiter offers
(`RateLimiter`), and this process's own token buckets (`ProcessBuckets`).

Budgets are per caller: a token's id; the client address of a request refused for want of
a valid token; or, for requests read as ANONYMOUS, a digest of the client address
(server/auth.py's `caller_key`). With CLUBJUSTICE_REDIS_URL set, the replicas share
their budgets through Redis (server/shared_limits.py) and these buckets stand in only while
Redis does not answer; without it, each process has its own (docs/security.md).
"""

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

# ("token", its id), ("address", the client's address) for refused requests without a valid
# token, or ("anonymous", `address_digest` of it) for ANONYMOUS reads: never the token itself.
CallerKey = tuple[Literal["token", "address", "anonymous"], int | str | None]


def address_digest(address: str) -> str:
    """A client address as an ANONYMOUS budget's key: not the address itself in Redis's keys
    (a pseudonym: an IPv4 address's digest can be found by trying every address)."""
    return hashlib.blake2b(address.encode(), digest_size=12, person=b"clubjustice").hexdigest()


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    retry_after: float = 0.0  # seconds until the request would be allowed

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after)))


ALLOWED = Verdict(True)

# The answer to a request that costs more than its caller's whole budget (a batch of more
# operations than the budget a minute): it can never pass, so nothing is spent and it is
# told to wait one window, the longest wait any other refusal names (docs/security.md).
OVER_THE_WHOLE_BUDGET = Verdict(False, 60.0)


class RateLimiter(Protocol):
    """Takes requests from callers' per-minute budgets."""

    async def take(self, key: CallerKey, per_minute: int, cost: int = 1) -> Verdict:
        """Take `cost` requests from the caller's budget of `per_minute` (0: unlimited), or
        none if fewer are left."""
        ...

    async def start(self) -> None:
        """Called once the process serves (a shared store is reached, or its absence logged)."""
        ...

    async def close(self) -> None:
        """Called when the process stops."""
        ...


class ProcessBuckets:
    """Token buckets in this process. `take(key, per_minute)`: a bucket of `per_minute`
    requests that refills continuously at `per_minute / 60` a second, so a caller may burst
    its whole minute's budget at once.

    Buckets are kept for the most recently seen `max_keys` callers of each kind, tokens,
    addresses and anonymous readers apart: a flood of requests from new addresses forgets
    other addresses' buckets, never a token's. A forgotten bucket comes back full."""

    def __init__(
        self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_keys = max_keys
        self.clock = clock
        self.buckets: dict[str, OrderedDict[int | str | None, _Bucket]] = {
            "token": OrderedDict(),
            "address": OrderedDict(),
            "anonymous": OrderedDict(),
        }

    def take_now(self, key: CallerKey, per_minute: int, cost: int = 1) -> Verdict:
        """`take`, for callers that cannot wait (no I/O happens here)."""
        if per_minute == 0:
            return ALLOWED
        if cost > per_minute:
            return OVER_THE_WHOLE_BUDGET
        bucket = self._bucket(key, per_minute)
        if bucket.tokens < cost:
            return Verdict(False, (cost - bucket.tokens) * 60 / per_minute)
        bucket.tokens -= cost
        return ALLOWED

    async def take(self, key: CallerKey, per_minute: int, cost: int = 1) -> Verdict:
        return self.take_now(key, per_minute, cost)

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    def _bucket(self, key: CallerKey, capacity: int) -> _Bucket:
        now = self.clock()
        kind, caller = key
        buckets = self.buckets[kind]
        bucket = buckets.get(caller)
        if bucket is None:
            bucket = _Bucket(float(capacity), now)
            buckets[caller] = bucket
            if len(buckets) > self.max_keys:
                buckets.popitem(last=False)
        else:
            buckets.move_to_end(caller)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * capacity / 60)
            bucket.updated = now
        return bucket
