"""The rate limit on corrections (``POST /v1/feedback`` and a review POST), with the ``limits`` library: a
moving window per caller, kept in this process's memory. A caller is the API key it presents, by the key's
sha256 (the key itself is never kept), when that key is the right one; otherwise, a missing or wrong key, the
client's address, so that guessing keys is limited too without ever shutting out the key's holder."""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from boundaryline.settings import SettingsProblem


def parse_rate_limit(text: str) -> RateLimitItem:
    """One rate limit in the ``limits`` notation ("60/minute", "10 per second"), or ``SettingsProblem`` in one
    line naming the variable."""
    problem = SettingsProblem(
        f"BOUNDARYLINE_FEEDBACK_RATE_LIMIT={text!r} is not a rate limit; expected one count per period of at"
        " least 1, e.g. '60/minute', '10 per second' or '1000/day'"
    )
    try:
        items = parse_many(text)
    except ValueError:
        raise problem from None
    if len(items) != 1 or items[0].amount < 1:
        raise problem
    return items[0]


class RateLimit:
    """``hit(caller)``: None while the caller is within the limit, else the whole seconds until it may try again."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.item = parse_rate_limit(text)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, caller: str) -> int | None:
        if self.limiter.hit(self.item, caller):
            return None
        reset = self.limiter.get_window_stats(self.item, caller).reset_time
        return max(1, math.ceil(reset - time.time()))


def key_caller(key: str) -> str:
    return "key:" + hashlib.sha256(key.encode()).hexdigest()


def address_caller(host: str | None) -> str:
    return "address:" + (host or "unknown")
