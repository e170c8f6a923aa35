"""Interaction round-trip latency through the fake Discord API on 127.0.0.1.

Latency is measured by the fake: from just before it sends INTERACTION_CREATE on the gateway to
the moment its REST API receives the bot's callback. So it covers discord.py's gateway parsing,
the command tree, our cog and core, and discord.py's HTTP request, but no real network.

peacebot's `/define` (typo queries, embed answers) and its `term` autocomplete run side by side
with a minimal discord.py bot that answers a constant string and constant choices, at
concurrency 1 (one interaction at a time) and 200 (bursts of 200 dispatched together).
Interactions come from a pool of 200 members, so per-user cooldowns apply but are not hit.

    python benchmarks/bench_interactions.py [--rounds 3] [--samples 200] [--bursts 4]
                                            [--concurrency 200]

Prints a markdown table. Every loop is bounded and every wait has a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from anywhere

import discord

from bot.content import Library
from bot.loader import load_library
from tests.fake_discord import BotHarness, FakeDiscord, Response, User, running_bot
from tests.fake_discord.minimal_bot import MinimalBot
from tests.fake_discord.peacebot import peacebot_client

TARGET_RATIO = 1.5
WARMUP = 30
WAIT_SECONDS = 60.0  # per wait; a healthy run needs a small fraction of it
POOL = 200  # members sending interactions

DEFINE_QUERIES = (
    "rules of engagment",
    "mandat",
    "chapter vii",
    "peacekeeping",
    "roe",
    "status of forces agreement",
    "protection of civilans",
    "blue helmets",
)
PARTIALS = ("rules of", "pea", "man", "chap", "prot", "sofa", "blue", "int")

Payload = dict[str, Any]
Build = Callable[[BotHarness, User, int], Payload]


@dataclass(frozen=True)
class Scenario:
    name: str
    minimal: Build
    peacebot: Build


def _ping(h: BotHarness, user: User, i: int) -> Payload:
    return h.build.slash("ping", {}, user, h.channel)


def _pick(h: BotHarness, user: User, i: int) -> Payload:
    return h.build.autocomplete("pick", "item", "cho", {}, user, h.channel)


def _define(h: BotHarness, user: User, i: int) -> Payload:
    term = DEFINE_QUERIES[i % len(DEFINE_QUERIES)]
    return h.build.slash("define", {"term": term}, user, h.channel)


def _complete(h: BotHarness, user: User, i: int) -> Payload:
    return h.build.autocomplete("define", "term", PARTIALS[i % len(PARTIALS)], {}, user, h.channel)


SCENARIOS = (
    Scenario("define (minimal: constant string)", _ping, _define),
    Scenario("autocomplete (minimal: constant choices)", _pick, _complete),
)


class Traffic:
    """Interactions from a pool of `POOL` members, built before the clock starts.

    200 concurrent interactions come from 200 people, as on a real server; reusing them keeps
    discord.py's per-user cooldown buckets at a realistic size (a fresh user per interaction
    would grow them without bound, and discord.py scans them on every command).
    """

    def __init__(self, harness: BotHarness, build: Build) -> None:
        self.harness = harness
        self.build = build
        self.users = [harness.world.add_user(f"member{n}") for n in range(POOL)]
        self.sent = 0

    async def send(self, count: int) -> list[float]:
        """Dispatch `count` interactions back to back; latencies in ms once all are answered."""
        fake = self.harness.fake
        payloads = []
        for _ in range(count):
            user = self.users[self.sent % POOL]
            payloads.append(self.build(self.harness, user, self.sent))
            self.sent += 1
        interactions = [await fake.dispatch_interaction(p, "bench") for p in payloads]
        async with asyncio.timeout(WAIT_SECONDS):
            responses = await asyncio.gather(*(fake.wait_for_response(i.id) for i in interactions))
        refused = fake.rejected or [r for r in responses if _is_error(r)]
        if refused:
            raise SystemExit(f"not a clean run: {refused[:3]}")
        latencies = [r.latency * 1000.0 for r in responses]
        fake.forget_history()
        return latencies


def _is_error(response: Response) -> bool:
    """An error reply (e.g. a cooldown) would measure the error path, not the command."""
    return response.callback_type == 4 and response.ephemeral


async def measure(harness: BotHarness, build: Build, concurrency: int, rounds: int) -> list[float]:
    traffic = Traffic(harness, build)
    for _ in range(WARMUP):
        await traffic.send(1)
    if concurrency > 1:
        await traffic.send(concurrency)  # untimed: opens the HTTP connections a burst needs
    latencies: list[float] = []
    for _ in range(rounds):
        latencies += await traffic.send(concurrency)
    return latencies


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


Cell = tuple[str, int]  # (scenario name, concurrency)
Results = dict[str, dict[Cell, list[float]]]  # bot -> cell -> latencies in ms


@dataclass(frozen=True)
class Plan:
    rounds: int = 3
    samples: int = 200  # sequential interactions per cell and round
    bursts: int = 4  # bursts per cell and round
    concurrency: int = 200  # interactions per burst


async def run_bot(which: str, library: Library, plan: Plan, results: Results) -> None:
    """Start one bot on a fresh fake, measure every cell, add the latencies to `results`."""
    async with AsyncExitStack() as stack:
        fake = await stack.enter_async_context(FakeDiscord(timeout=WAIT_SECONDS))
        if which == "minimal":
            bot = MinimalBot()
        else:
            bot = await stack.enter_async_context(peacebot_client(fake, library))
        harness = await stack.enter_async_context(running_bot(fake, bot))
        for scenario in SCENARIOS:
            build = scenario.minimal if which == "minimal" else scenario.peacebot
            for concurrency, count in ((1, plan.samples), (plan.concurrency, plan.bursts)):
                latencies = await measure(harness, build, concurrency, count)
                results[which].setdefault((scenario.name, concurrency), []).extend(latencies)


async def run(plan: Plan) -> Results:
    """`plan.rounds` rounds, each running both bots, alternating which goes first, so that
    drift in the machine's speed during the run affects both sides alike."""
    library = load_library()
    results: Results = {"minimal": {}, "peacebot": {}}
    for round_number in range(plan.rounds):
        order = ("minimal", "peacebot") if round_number % 2 == 0 else ("peacebot", "minimal")
        for which in order:
            await run_bot(which, library, plan, results)
    return results


def table(results: Results) -> str:
    lines = [
        "| interaction | concurrent | minimal p50 | minimal p99 | peacebot p50 | peacebot p99 "
        f"| p50 ratio (target <= {TARGET_RATIO}x) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (name, concurrency), minimal in results["minimal"].items():
        peacebot = results["peacebot"][(name, concurrency)]
        m50, m99 = percentile(minimal, 50), percentile(minimal, 99)
        p50, p99 = percentile(peacebot, 50), percentile(peacebot, 99)
        ratio = p50 / m50
        verdict = "ok" if ratio <= TARGET_RATIO else "MISSED"
        lines.append(
            f"| {name} | {concurrency} | {m50:.2f} ms | {m99:.2f} ms | {p50:.2f} ms "
            f"| {p99:.2f} ms | {ratio:.2f}x {verdict} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = Plan()
    for name, text in (
        ("rounds", "rounds, each running both bots"),
        ("samples", "sequential interactions per cell and round"),
        ("bursts", "bursts per cell and round"),
        ("concurrency", "interactions dispatched together in a burst"),
    ):
        value = getattr(default, name)
        parser.add_argument(f"--{name}", type=int, default=value, help=f"{text} ({value})")
    args = parser.parse_args()
    plan = Plan(*(max(getattr(args, n), 1) for n in ("rounds", "samples", "bursts", "concurrency")))
    # discord.py warns about optional voice support; nothing here is about voice.
    logging.getLogger("discord").setLevel(logging.ERROR)
    started = time.perf_counter()
    results = asyncio.run(run(plan))
    print(table(results))
    print(
        f"\n{plan.rounds} rounds x ({plan.samples} sequential + {plan.bursts} x "
        f"{plan.concurrency} concurrent) interactions per cell and bot, after {WARMUP} warm-up "
        f"ones and, for bursts, one warm-up burst; Python {sys.version.split()[0]}, "
        f"discord.py {discord.__version__}; {time.perf_counter() - started:.1f} s in all."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
