"""This process's token buckets (club/ratelimit.py), on a clock the test moves."""

from club.ratelimit import OVER_THE_WHOLE_BUDGET, CallerKey, ProcessBuckets, Verdict

TOKEN: CallerKey = ("token", 1)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_caller_bursts_its_minute_then_gets_one_request_per_share_of_it() -> None:
    clock = Clock()
    buckets = ProcessBuckets(clock=clock)
    assert [buckets.take_now(TOKEN, 6).allowed for _ in range(7)] == [True] * 6 + [False]
    assert buckets.take_now(TOKEN, 6) == Verdict(False, 10.0)
    clock.now += 5
    assert buckets.take_now(TOKEN, 6) == Verdict(False, 5.0)
    clock.now += 5
    assert buckets.take_now(TOKEN, 6) == Verdict(True)
    assert not buckets.take_now(TOKEN, 6).allowed


def test_a_batch_takes_its_cost_or_nothing() -> None:
    buckets = ProcessBuckets(clock=Clock())
    assert buckets.take_now(TOKEN, 4, cost=3).allowed
    assert buckets.take_now(TOKEN, 4, cost=2) == Verdict(False, 15.0)
    assert buckets.take_now(TOKEN, 4, cost=1).allowed  # the refused batch took nothing


def test_a_batch_larger_than_the_whole_budget_waits_one_window_and_takes_nothing() -> None:
    """It can never pass (a full bucket holds the budget): the answer is one window, not the
    time until the bucket would hold more than it can."""
    buckets = ProcessBuckets(clock=Clock())
    assert buckets.take_now(TOKEN, 2, cost=5) == OVER_THE_WHOLE_BUDGET == Verdict(False, 60.0)
    assert [buckets.take_now(TOKEN, 2).allowed for _ in range(3)] == [True, True, False]


def test_zero_is_unlimited() -> None:
    buckets = ProcessBuckets(clock=Clock())
    assert all(buckets.take_now(TOKEN, 0).allowed for _ in range(1000))
    assert buckets.buckets["token"] == {}


def test_new_addresses_forget_other_addresses_never_a_token() -> None:
    buckets = ProcessBuckets(max_keys=3, clock=Clock())
    assert buckets.take_now(TOKEN, 1).allowed
    assert buckets.take_now(("address", "198.51.100.1"), 1).allowed
    for n in range(2, 10):  # a flood of fresh addresses
        assert buckets.take_now(("address", f"198.51.100.{n}"), 1).allowed
    # The token's empty bucket is still there; the first address's was forgotten (full again).
    assert not buckets.take_now(TOKEN, 1).allowed
    assert buckets.take_now(("address", "198.51.100.1"), 1).allowed
    assert len(buckets.buckets["address"]) == 3


async def test_take_is_take_now() -> None:
    buckets = ProcessBuckets(clock=Clock())
    assert await buckets.take(TOKEN, 1) == Verdict(True)
    assert await buckets.take(TOKEN, 1) == Verdict(False, 60.0)
    await buckets.start()
    await buckets.close()
