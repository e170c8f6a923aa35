"""Rate limits on demand: chosen REST calls answered with 429 the way Discord answers them.

Discord sends `Retry-After` and the `X-RateLimit-*` headers, a JSON body with `retry_after` (in
seconds, fractional) and `global`, and, being behind Google's load balancer, a `Via` header:
discord.py takes a 429 without `Via` for a Cloudflare ban and does not retry it.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import dataclass

from aiohttp import web


@dataclass
class RateLimitRule:
    method: str
    path: re.Pattern[str]
    times: int
    retry_after: float
    is_global: bool


@dataclass(frozen=True)
class RateLimitHit:
    """A request the fake answered with 429; `at` is when it arrived (the fake's clock)."""

    method: str
    path: str
    at: float
    retry_after: float
    is_global: bool


class RateLimits:
    def __init__(self) -> None:
        self.rules: list[RateLimitRule] = []
        self.hits: list[RateLimitHit] = []

    def add(
        self, method: str, path: str, *, times: int, retry_after: float, is_global: bool
    ) -> None:
        self.rules.append(
            RateLimitRule(method.upper(), re.compile(path), times, retry_after, is_global)
        )

    def check(self, method: str, path: str, at: float) -> web.Response | None:
        """The 429 for this request, if a rule with tries left matches it."""
        for rule in self.rules:
            if rule.times > 0 and rule.method == method and rule.path.fullmatch(path):
                rule.times -= 1
                self.hits.append(RateLimitHit(method, path, at, rule.retry_after, rule.is_global))
                return too_many_requests(rule.retry_after, rule.is_global)
        return None


def too_many_requests(retry_after: float, is_global: bool) -> web.Response:
    body = {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
    }
    headers = {
        "Content-Type": "application/json",
        "Retry-After": str(math.ceil(retry_after)),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": "fakebucket0000000000000000000000",
        "X-RateLimit-Scope": "global" if is_global else "user",
        "Via": "1.1 google",
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    return web.Response(body=json.dumps(body).encode(), status=429, headers=headers)
