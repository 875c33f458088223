"""Token buckets per token (and per client address for callers without a valid token).

Each server process holds its own buckets: with N replicas behind a load balancer a caller
can get up to N times its budget (docs/security.md says so). Buckets are kept for the most
recently seen `max_keys` callers; a forgotten bucket comes back full.
"""

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass


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


class RateLimiter:
    """`take(key, per_minute)`: a bucket of `per_minute` requests that refills continuously at
    `per_minute / 60` a second, so a caller may burst its whole minute's budget at once."""

    def __init__(
        self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_keys = max_keys
        self.clock = clock
        self.buckets: OrderedDict[Hashable, _Bucket] = OrderedDict()

    def _bucket(self, key: Hashable, capacity: int) -> _Bucket:
        now = self.clock()
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(capacity), now)
            self.buckets[key] = bucket
            if len(self.buckets) > self.max_keys:
                self.buckets.popitem(last=False)
        else:
            self.buckets.move_to_end(key)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * capacity / 60)
            bucket.updated = now
        return bucket

    def check(self, key: Hashable, per_minute: int, cost: int = 1) -> Verdict:
        """Whether `cost` requests would be allowed now, without taking them."""
        if per_minute == 0:
            return ALLOWED
        bucket = self._bucket(key, per_minute)
        if bucket.tokens >= cost:
            return ALLOWED
        return Verdict(False, (cost - bucket.tokens) * 60 / per_minute)

    def take(self, key: Hashable, per_minute: int, cost: int = 1) -> Verdict:
        """Take `cost` requests from the bucket, or none if it holds fewer."""
        verdict = self.check(key, per_minute, cost)
        if verdict.allowed and per_minute:
            self.buckets[key].tokens -= cost
        return verdict
