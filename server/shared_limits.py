"""Rate-limit budgets shared by every replica through Redis (CLUBJUSTICE_REDIS_URL), with
this process's own buckets deciding while Redis does not answer.

The budgets are `limits`' sliding window counter (docs/security.md says why that strategy):
two counters per caller in Redis under CLUBJUSTICE_RATE_LIMIT_KEY_PREFIX, read and updated
by one Lua script, so that requests through any replica spend one budget. A call that fails
or takes longer than CLUBJUSTICE_REDIS_TIMEOUT is decided by `ProcessBuckets` instead: one
warning per outage, never an error for the caller.
"""

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from redis.asyncio import BlockingConnectionPool, Redis

from club.metrics import Metrics
from club.ratelimit import (
    ALLOWED,
    OVER_THE_WHOLE_BUDGET,
    CallerKey,
    ProcessBuckets,
    RateLimiter,
    Verdict,
)
from club.settings import Settings

logger = logging.getLogger("clubjustice.ratelimit")

# While Redis is away, one request per interval tries it again; the others are decided here
# at once instead of each waiting for a connection to fail or time out.
RETRY_INTERVAL = 1.0

# Retry-After of a request Redis refused when reading its window then failed: one window, the
# longest wait the window can name.
UNKNOWN_WAIT = 60.0

# Connections to Redis per process. A call holds one for a round trip (well under a
# millisecond), so a burst of more concurrent requests waits for a free one, within
# CLUBJUSTICE_REDIS_TIMEOUT, instead of finding the pool empty and Redis "down".
MAX_CONNECTIONS = 50

# `limits` names its Redis storages by these schemes (`unix://` would select Valkey's).
_STORAGE_SCHEMES = {"redis": "async+redis", "rediss": "async+rediss", "unix": "async+redis+unix"}


def rate_limiter(settings: Settings, metrics: Metrics) -> RateLimiter:
    """Shared budgets when CLUBJUSTICE_REDIS_URL is set, this process's own otherwise."""
    if settings.redis_url is None:
        return ProcessBuckets()
    return SharedBuckets(
        settings.redis_url,
        key_prefix=settings.rate_limit_key_prefix,
        timeout=settings.redis_timeout,
        metrics=metrics,
    )


# Query parameters through which redis-py also takes credentials (its documented form for
# unix:// sockets).
_CREDENTIAL_PARAMETERS = frozenset({"username", "password"})


def without_credentials(url: str) -> str:
    """A Redis URL as log lines may show it: no user or password, in the address or in its
    query."""
    parts = urlsplit(url)
    options = parse_qsl(parts.query, keep_blank_values=True)
    kept = [(name, value) for name, value in options if name not in _CREDENTIAL_PARAMETERS]
    if "@" not in parts.netloc and len(kept) == len(options):
        return url  # as written
    # Put together by hand: urllib drops the empty host of unix:/// URLs.
    shown = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"
    return f"{shown}?{urlencode(kept)}" if kept else shown


class SharedBuckets:
    """A `RateLimiter` whose budgets live in Redis, shared by every process that names the
    same Redis and key prefix; `fallback` decides while Redis does not answer."""

    def __init__(
        self,
        url: str,
        *,
        key_prefix: str,
        timeout: float,
        metrics: Metrics,
        fallback: ProcessBuckets | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.address = without_credentials(url)
        # Our own pool (closed by `close`), with both timeouts and redis-py's default of no
        # retries for a pool's connections: a failed call falls back at once. A blocking
        # pool: redis-py's plain one raises at once when all its connections are busy.
        self.pool = BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
        )
        self.client = Redis(connection_pool=self.pool)
        options: dict[str, Any] = {"connection_pool": self.pool}
        scheme, _, rest = url.partition("://")
        self.strategy = SlidingWindowCounterRateLimiter(
            RedisStorage(
                f"{_STORAGE_SCHEMES[scheme]}://{rest}",
                implementation="redispy",
                key_prefix=key_prefix,
                **options,
            )
        )
        self.timeout = timeout
        self.metrics = metrics
        self.fallback = fallback or ProcessBuckets()
        self.clock = clock
        self.down_since: float | None = None  # the outage's start, on `clock`
        self.retry_at = 0.0

    async def take(self, key: CallerKey, per_minute: int, cost: int = 1) -> Verdict:
        if per_minute == 0:
            return ALLOWED
        if cost > per_minute:
            return OVER_THE_WHOLE_BUDGET  # as the process's buckets answer, without a round trip
        now = self.clock()
        if self.down_since is not None:
            if now < self.retry_at:
                return self._decided_here(key, per_minute, cost)
            self.retry_at = now + RETRY_INTERVAL  # this request tries; the others wait
        item = RateLimitItemPerMinute(per_minute)
        identifiers = _identifiers(key)
        try:
            async with asyncio.timeout(self.timeout):
                allowed = await self.strategy.hit(item, *identifiers, cost=cost)
        except Exception as error:  # whatever the failure, the caller gets an answer
            self._went_away(now, error)
            return self._decided_here(key, per_minute, cost)
        if self.down_since is not None:
            logger.warning(
                "Redis at %s answers again after %.0f s: rate limits are shared again",
                self.address,
                self.clock() - self.down_since,  # `now` was read before the round trip
            )
            self.down_since = None
        if allowed:
            return ALLOWED
        # Redis refused: a failure to read the wait must not let the request through.
        try:
            async with asyncio.timeout(self.timeout):
                return Verdict(False, await self._retry_after(item, identifiers))
        except Exception:
            return Verdict(False, UNKNOWN_WAIT)

    async def start(self) -> None:
        """Reaches Redis once at start-up, so that an unreachable one is logged at once."""
        try:
            async with asyncio.timeout(self.timeout):
                await self.client.ping()
        except Exception as error:
            self._went_away(self.clock(), error)
            return
        logger.info("rate limits are shared through Redis at %s", self.address)

    async def close(self) -> None:
        await self.pool.aclose()

    async def _retry_after(self, item: RateLimitItem, identifiers: tuple[str, str]) -> float:
        stats = await self.strategy.get_window_stats(item, *identifiers)
        return max(0.0, stats.reset_time - time.time())

    def _went_away(self, now: float, error: Exception) -> None:
        if self.down_since is None:
            logger.warning(
                "Redis at %s did not answer (%s): each process limits its callers on its own "
                "until it does",
                self.address,
                _describe(error),
            )
            self.down_since = now
        self.retry_at = now + RETRY_INTERVAL

    def _decided_here(self, key: CallerKey, per_minute: int, cost: int) -> Verdict:
        self.metrics.rate_limit_fallbacks.inc()
        return self.fallback.take_now(key, per_minute, cost)


def _identifiers(key: CallerKey) -> tuple[str, str]:
    kind, caller = key
    return kind, str(caller)


def _describe(error: Exception) -> str:
    if isinstance(error, TimeoutError):
        return "no answer in time"
    return f"{type(error).__name__}: {error}"
