"""Rate-limit budgets shared through Redis (server/shared_limits.py): against the real Redis
of CLUBJUSTICE_TEST_REDIS_URL, two limiters stand for two replicas; and the fallback to this
process's buckets when Redis is unreachable, hangs, or goes away mid-run and comes back."""

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis

from club.metrics import Metrics
from club.ratelimit import CallerKey, ProcessBuckets, Verdict
from server.shared_limits import (
    MAX_CONNECTIONS,
    RETRY_INTERVAL,
    SharedBuckets,
    without_credentials,
)
from tests.e2e.servers import free_port

TOKEN: CallerKey = ("token", 7)
ADDRESS: CallerKey = ("address", "203.0.113.9")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def shared(
    url: str, prefix: str = "clubjustice-test:ratelimit", timeout: float = 1.0
) -> tuple[SharedBuckets, Clock, Metrics]:
    clock, metrics = Clock(), Metrics()
    limiter = SharedBuckets(
        url,
        key_prefix=prefix,
        timeout=timeout,
        metrics=metrics,
        fallback=ProcessBuckets(clock=clock),
        clock=clock,
    )
    return limiter, clock, metrics


def fallbacks(metrics: Metrics) -> float:
    value = metrics.registry.get_sample_value("clubjustice_rate_limit_fallbacks_total")
    assert value is not None
    return value


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "clubjustice.ratelimit" and record.levelno == logging.WARNING
    ]


@contextlib.asynccontextmanager
async def limiters(*made: SharedBuckets) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for limiter in made:
            await limiter.close()


# Shared through a real Redis


async def test_two_replicas_spend_one_budget(redis_url: str, redis_key_prefix: str) -> None:
    (first, _, first_metrics), (second, _, _) = (
        shared(redis_url, redis_key_prefix),
        shared(redis_url, redis_key_prefix),
    )
    async with limiters(first, second):
        verdicts = [
            await (first if n % 2 == 0 else second).take(TOKEN, per_minute=4) for n in range(6)
        ]
        assert [verdict.allowed for verdict in verdicts] == [True] * 4 + [False] * 2
        # Both refuse, each with a wait no longer than the window.
        for refused in verdicts[4:]:
            assert 0 < refused.retry_after <= 60
        assert fallbacks(first_metrics) == 0
        # Another caller has a budget of its own.
        assert await first.take(("token", 8), per_minute=4) == Verdict(True)


async def test_a_concurrent_burst_larger_than_the_pool_spends_one_budget(
    redis_url: str, redis_key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Each replica gets more concurrent requests than it has connections to Redis (redis-py's
    plain pool raised at once past 100, which read as Redis being down: the process's own
    bucket granted a second budget and logged an outage). They wait for a connection."""
    # A generous timeout: the waits for a connection count in it, and on a loaded machine 600
    # calls through 100 connections can take longer than a second (the bug was an error at
    # once, not a wait).
    replicas = [shared(redis_url, redis_key_prefix, timeout=30)[0] for _ in range(2)]
    metrics = [limiter.metrics for limiter in replicas]
    async with limiters(*replicas):
        verdicts = await asyncio.gather(
            *(replicas[n % 2].take(TOKEN, per_minute=50) for n in range(6 * MAX_CONNECTIONS))
        )
    assert sum(verdict.allowed for verdict in verdicts) == 50
    assert [fallbacks(each) for each in metrics] == [0, 0]
    assert warnings_of(caplog) == []


async def test_keys_are_under_the_prefix_and_name_no_token(
    redis_url: str, redis_key_prefix: str
) -> None:
    limiter, _, _ = shared(redis_url, redis_key_prefix)
    client = Redis.from_url(redis_url, decode_responses=True)
    async with limiters(limiter):
        assert (await limiter.take(TOKEN, per_minute=4)).allowed
        assert (await limiter.take(ADDRESS, per_minute=30)).allowed
        assert (await limiter.take(TOKEN, per_minute=0)).allowed  # unlimited: nothing stored
        keys = {key async for key in client.scan_iter(match=f"{redis_key_prefix}:*")}
        assert keys == {
            f"{redis_key_prefix}:{{LIMITER/token/7/4/1/minute}}",
            f"{redis_key_prefix}:{{LIMITER/address/203.0.113.9/30/1/minute}}",
        }
        # Two minutes to live from the window's first request (Redis's clock; later requests
        # do not extend it): an address seen once costs Redis nothing for long.
        for key in keys:
            assert 0 < await client.ttl(key) <= 120
        await client.aclose()


async def test_a_batch_spends_its_cost(redis_url: str, redis_key_prefix: str) -> None:
    limiter, _, _ = shared(redis_url, redis_key_prefix)
    async with limiters(limiter):
        assert (await limiter.take(TOKEN, per_minute=4, cost=3)).allowed
        assert not (await limiter.take(TOKEN, per_minute=4, cost=2)).allowed
        assert (await limiter.take(TOKEN, per_minute=4, cost=1)).allowed
        assert not (await limiter.take(TOKEN, per_minute=4)).allowed


async def test_a_batch_larger_than_the_whole_budget_is_answered_as_the_buckets_answer(
    redis_url: str, redis_key_prefix: str
) -> None:
    """It can never pass: one window's wait (as from the process's buckets), nothing spent,
    and no round trip to Redis."""
    limiter, _, _ = shared(redis_url, redis_key_prefix)
    client = Redis.from_url(redis_url)
    async with limiters(limiter):
        oversized = await limiter.take(TOKEN, per_minute=2, cost=5)
        assert oversized == ProcessBuckets().take_now(TOKEN, 2, cost=5) == Verdict(False, 60.0)
        assert [key async for key in client.scan_iter(match=f"{redis_key_prefix}:*")] == []
        assert [(await limiter.take(TOKEN, per_minute=2)).allowed for _ in range(3)] == [
            True,
            True,
            False,
        ]
        await client.aclose()


async def _connection_lost(*args: object) -> None:
    raise ConnectionError("Connection closed by server.")


async def _no_answer(*args: object) -> None:
    await asyncio.sleep(10)


@pytest.mark.parametrize("reading_the_window", [_connection_lost, _no_answer])
async def test_a_refusal_whose_wait_cannot_be_read_stays_a_refusal(
    reading_the_window: Callable[..., Awaitable[None]],
    redis_url: str,
    redis_key_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Redis refused (the budget is spent) and then failed, or took too long, to say for how
    long: the request is refused with one window's wait, never let through by the process's
    own bucket (which would still be full)."""
    limiter, _, metrics = shared(redis_url, redis_key_prefix, timeout=0.1)
    async with limiters(limiter):
        assert (await limiter.take(TOKEN, per_minute=1)).allowed
        monkeypatch.setattr(limiter.strategy, "get_window_stats", reading_the_window)
        assert await limiter.take(TOKEN, per_minute=1) == Verdict(False, 60.0)
        assert fallbacks(metrics) == 0


def _error_replies(reply: bytes) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            # One error per command (a command is a RESP array: redis-py may send two at once).
            writer.write(reply * max(1, data.count(b"*")))
            await writer.drain()
        writer.close()

    return serve


@pytest.mark.parametrize(
    "reply",
    [
        b"-READONLY You can't write against a read only replica.\r\n",
        b"-NOAUTH Authentication required.\r\n",
        b"-OOM command not allowed when used memory > 'maxmemory'.\r\n",
    ],
)
async def test_a_redis_answering_errors_is_an_outage_with_one_warning(
    reply: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    server = await asyncio.start_server(_error_replies(reply), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    limiter, clock, metrics = shared(f"redis://127.0.0.1:{port}/0", timeout=0.5)
    try:
        async with limiters(limiter):
            verdicts = [await limiter.take(TOKEN, per_minute=3) for _ in range(4)]
            clock.now += RETRY_INTERVAL  # tried again: still errors
            verdicts.append(await limiter.take(TOKEN, per_minute=3))
    finally:
        server.close()
        await server.wait_closed()
    assert [verdict.allowed for verdict in verdicts] == [True, True, True, False, False]
    assert len(warnings_of(caplog)) == 1, warnings_of(caplog)
    assert fallbacks(metrics) == 5


# Redis unreachable, hanging, or away for a while


async def test_an_unreachable_redis_is_logged_once_and_each_process_limits_alone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    limiter, clock, metrics = shared(url)
    caplog.set_level(logging.INFO, logger="clubjustice.ratelimit")
    async with limiters(limiter):
        await limiter.start()
        # This process's token bucket: a burst of 2, then one request each 30 s.
        assert [(await limiter.take(TOKEN, per_minute=2)).allowed for _ in range(3)] == [
            True,
            True,
            False,
        ]
        clock.now += RETRY_INTERVAL  # Redis is tried again, and still does not answer
        verdict = await limiter.take(TOKEN, per_minute=2)
        assert verdict == Verdict(False, 60 / 2 - RETRY_INTERVAL)
        assert fallbacks(metrics) == 4
    [warning] = warnings_of(caplog)  # once, though Redis was tried twice
    assert re.fullmatch(
        rf"Redis at {re.escape(url)} did not answer \(ConnectionError: Error 111 connecting "
        rf"to 127\.0\.0\.1:{urlsplit(url).port}\. .+\): each process limits its callers on "
        "its own until it does",
        warning,
    ), warning


async def test_a_redis_that_never_answers_costs_one_timeout_per_retry_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    connections = 0

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.read()  # reads whatever comes, answers nothing
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    limiter, clock, metrics = shared(f"redis://127.0.0.1:{port}/0", timeout=0.05)
    try:
        async with limiters(limiter):
            assert (await limiter.take(TOKEN, per_minute=5)).allowed
            assert connections == 1
            # Within the interval, requests are decided here without trying Redis.
            for _ in range(4):
                assert (await limiter.take(TOKEN, per_minute=5)).allowed
            assert not (await limiter.take(TOKEN, per_minute=5)).allowed
            assert connections == 1
            clock.now += RETRY_INTERVAL
            assert not (await limiter.take(TOKEN, per_minute=5)).allowed
            assert connections == 2
            assert fallbacks(metrics) == 7
    finally:
        server.close()
        await server.wait_closed()
    assert warnings_of(caplog) == [
        f"Redis at redis://127.0.0.1:{port}/0 did not answer (no answer in time): each "
        "process limits its callers on its own until it does"
    ]


class Relay:
    """A TCP relay to Redis that a test can cut and restore, on the same port: Redis going
    away mid-run and coming back."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def cut(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await self.server.wait_closed()
        self.writers.clear()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self.writers += [writer, upstream_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


async def test_redis_going_away_mid_run_and_coming_back(
    redis_url: str, redis_key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    relay = Relay(redis_url)
    await relay.start()
    database = urlsplit(redis_url).path or "/0"
    through_relay = f"redis://127.0.0.1:{relay.port}{database}"
    replica, clock, metrics = shared(through_relay, redis_key_prefix)
    other_replica, _, _ = shared(redis_url, redis_key_prefix)
    async with limiters(replica, other_replica):
        assert (await replica.take(TOKEN, per_minute=3)).allowed  # shared: 1 of 3
        await relay.cut()
        # Decided here (this process's full bucket), never an error.
        assert (await replica.take(TOKEN, per_minute=3)).allowed
        assert (await replica.take(TOKEN, per_minute=3)).allowed
        assert fallbacks(metrics) == 2
        await relay.start()
        # Still within the retry interval: decided here, as its bucket says (1 of 3 left).
        assert (await replica.take(TOKEN, per_minute=3)).allowed
        clock.now += RETRY_INTERVAL
        assert (await replica.take(TOKEN, per_minute=3)).allowed  # shared again: 2 of 3
        assert fallbacks(metrics) == 3
        assert (await other_replica.take(TOKEN, per_minute=3)).allowed  # 3 of 3
        assert not (await other_replica.take(TOKEN, per_minute=3)).allowed
        assert not (await replica.take(TOKEN, per_minute=3)).allowed
        assert fallbacks(metrics) == 3
        await relay.cut()
    went, came_back = warnings_of(caplog)
    assert re.fullmatch(
        rf"Redis at {re.escape(through_relay)} did not answer \(ConnectionError: .+\): each "
        "process limits its callers on its own until it does",
        went,
    ), went
    assert came_back == (
        f"Redis at {through_relay} answers again after 1 s: rate limits are shared again"
    )


async def test_an_outage_lasts_until_the_answer_that_ends_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The outage's length is read when Redis has answered, not when the request that got
    the answer started (which logged "after -0 s" when a false outage ended at once)."""
    limiter, clock, _ = shared("redis://127.0.0.1:6379/0")

    async def refused(*args: object, **kwargs: object) -> bool:
        raise ConnectionError("Connection refused.")

    async def slow_answer(*args: object, **kwargs: object) -> bool:
        clock.now += 5  # the round trip that ends the outage takes 5 s
        return True

    async with limiters(limiter):
        monkeypatch.setattr(limiter.strategy, "hit", refused)
        assert (await limiter.take(TOKEN, per_minute=3)).allowed  # decided here
        clock.now += RETRY_INTERVAL
        monkeypatch.setattr(limiter.strategy, "hit", slow_answer)
        assert (await limiter.take(TOKEN, per_minute=3)).allowed  # shared again
    assert warnings_of(caplog)[-1] == (
        "Redis at redis://127.0.0.1:6379/0 answers again after 6 s: rate limits are shared again"
    )


def test_log_lines_show_no_password() -> None:
    assert without_credentials("redis://:secret@cache:6379/2") == "redis://cache:6379/2"
    assert without_credentials("rediss://user:secret@cache/0") == "rediss://cache/0"
    assert without_credentials("unix:///run/redis.sock?db=1") == "unix:///run/redis.sock?db=1"
    # redis-py also reads credentials from the query (its documented form for unix sockets).
    assert (
        without_credentials("unix:///run/redis.sock?db=0&password=s3cret&username=app")
        == "unix:///run/redis.sock?db=0"
    )
    assert without_credentials("redis://cache/0?password=s3cret") == "redis://cache/0"
