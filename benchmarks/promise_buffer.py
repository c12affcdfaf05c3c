"""The price of planning promises on the learned spread: the demo's days with the buffer off
and at confidences 0.8, 0.9 and 0.95.

``python -m benchmarks.promise_buffer [--city synthetic|helsinki|both] [--orders 200]
[--seed 0] [--time-limit 20] [--sample 40] [--confidences off,0.8,0.9,0.95] [--json FILE]``

For each city the demo's day is seeded into a fresh SQLite store in a temporary directory,
as ``lastmile demo`` seeds it (:func:`simulation.seed_store.seed_store`: its depot, fleets,
customers with their places, ``--orders`` orders; the same seed), on the city's streets.
Then, for each confidence, in turn:

1. the day is planned by the production planner
   (:func:`orchestrator.planning.plans.plan_day`, ``--time-limit`` seconds, the demo's seed)
   with ``promise_confidence`` at that value (``off`` = 0: no buffer), made current;
2. ``--sample`` of the day's orders (every n-th, the same ones at every confidence) ask for
   their options on that day (:func:`orchestrator.concierge.offers.options_for_order`,
   ``days=1``, ``k=20`` — the API's most — asked the evening before), which the tentative
   day checks on the same buffer and filters at the same confidence; and every window that
   passes for them on that day, uncapped (the concierge's own request and tentative day,
   :func:`orchestrator.concierge.options.delivery_options` with no ``k`` to speak of).

Reported per city and confidence: routes, km, cost (EUR), orders served (share of the day's
orders), options offered per order asked (mean, at most 20), windows offered per order
(uncapped mean), the share of those windows kept with a probability under 0.9 (weak
promises: only without a buffer or below 0.9 can there be any), the share of orders asked
that got at least one option, and the lowest confidence of an option offered. The store has
no outcomes, so the buffer is the default spread's quantile (travel sigma 0.15, service 0.3).

The solve is time-limited: differences of a few per cent between runs are the search's
noise, not the buffer's. ``--json FILE`` writes ``{"cities": {city: [row, ...]}, "orders",
"seed", "time_limit_s", "sample", "date", "cpus"}``, each row with the table's fields.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import networkx as nx
from sqlmodel import Session, col, select

from api.cli.progress import Progress
from orchestrator.concierge.offers import _context, options_for_order
from orchestrator.concierge.options import delivery_options
from orchestrator.models import Depot, Order
from orchestrator.planning.plans import plan_day
from orchestrator.planning.tentative import DayCache, tentative_days
from orchestrator.planning.travel import TravelTimes, legs_for, travel_from_settings
from orchestrator.settings import Settings, setting_name
from orchestrator.store.engine import create_engine, ensure_schema, session_scope
from routing.solve import Limits

__all__ = ["Row", "main", "measure_city", "parse_confidences"]

CONFIDENCES: tuple[float, ...] = (0.0, 0.8, 0.9, 0.95)
"""What is compared by default (0: the buffer off)."""
WEAK = 0.9
"""A window kept with a lower probability than this is a weak promise."""


@dataclass(frozen=True, slots=True)
class Row:
    """One city at one confidence (``None``: no buffer)."""

    city: str
    confidence: float | None
    routes: int
    km: float
    cost_eur: float
    served: int
    orders: int
    served_share: float
    options_per_order: float
    windows_per_order: float
    weak_share: float
    asked: int
    with_option_share: float
    min_option_confidence: float | None


def parse_confidences(text: str) -> tuple[float, ...]:
    """``"off,0.8,0.9"`` → ``(0.0, 0.8, 0.9)``; each in [0, 1).

    Raises
    ------
    ValueError
        For a value that is not ``off`` or a number in [0, 1).
    """
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        value = 0.0 if part in ("off", "0", "none") else float(part)
        if not 0 <= value < 1:
            raise ValueError(f"confidence {part!r}: give off or a probability in [0, 1)")
        out.append(value)
    return tuple(out)


@contextmanager
def _confidence_env(value: float) -> Iterator[None]:
    """``LASTMILE_PROMISE_CONFIDENCE`` set to ``value`` meanwhile (the options' tentative day
    reads the settings, as a deployment sets them)."""
    name = setting_name("promise_confidence")
    before = os.environ.get(name)
    os.environ[name] = repr(value)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def measure_city(
    city: str,
    *,
    orders: int,
    seed: int,
    time_limit: float,
    sample: int,
    confidences: Sequence[float] = CONFIDENCES,
    progress: Progress | None = None,
) -> list[Row]:
    """Seed ``city``'s demo day into a temporary store and measure it at each confidence."""
    from api.cli.demo import _city, next_working_day
    from simulation.seed_store import seed_store

    town, _ = _city(city, seed)
    day = next_working_day(datetime(2026, 12, 1, 12, tzinfo=UTC))  # a fixed Wednesday
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="lastmile-buffer-") as tmp:
        graph = Path(tmp) / "streets.graphml"
        nx.write_graphml(town.graph, graph)
        settings = Settings(database_url=f"sqlite:///{tmp}/store.db", road_graph=graph)
        travel = travel_from_settings(settings)
        engine = create_engine(settings.database_url)
        ensure_schema(engine)
        try:
            with session_scope(engine) as session:
                seeded = seed_store(
                    session, town, city_name=city, day=day, seed=seed, n_orders=orders,
                    travel=travel,
                )  # fmt: skip
            for confidence in confidences:
                with session_scope(engine) as session, _confidence_env(confidence):
                    rows.append(
                        _measure(
                            session,
                            city,
                            seeded.depot_id,
                            day,
                            confidence,
                            travel,
                            settings,
                            seed,
                            time_limit,
                            sample,
                        )
                    )
                if progress is not None:
                    progress.advance()
        finally:
            engine.dispose()
    return rows


def _measure(
    session: Session,
    city: str,
    depot_id: int,
    day: date,
    confidence: float,
    travel: TravelTimes,
    settings: Settings,
    seed: int,
    time_limit: float,
    sample: int,
) -> Row:
    here = settings.model_copy(update={"promise_confidence": confidence})
    plan = plan_day(
        session, depot_id, day, limits=Limits(time_limit=time_limit), travel=travel,
        seed=seed, make_current="always", settings=here,
    )  # fmt: skip
    depot = session.get(Depot, depot_id)
    assert depot is not None
    ids = [
        i
        for i in session.exec(
            select(Order.id)
            .where(col(Order.depot_id) == depot_id, col(Order.service_day) == day)
            .order_by(col(Order.id))
        ).all()
        if i is not None
    ]
    step = max(1, len(ids) // max(sample, 1))
    asked = ids[::step][:sample]
    now = datetime.combine(day - timedelta(days=1), time(18), ZoneInfo(depot.timezone))
    cache = DayCache()
    counts, windows, weak, lowest = [], [], 0, None
    for order_id in asked:
        answer = options_for_order(
            session, order_id, days=1, k=20, now=now, travel=travel, cache=cache
        )
        counts.append(len(answer.options))
        for o in answer.options:
            lowest = o.confidence if lowest is None else min(lowest, o.confidence)
        ctx = _context(session, order_id, now, None, travel)
        (tentative,) = tentative_days(session, depot, [day], now=now, travel=travel, cache=cache)
        every = delivery_options(ctx.request, [tentative.plan], legs_for(travel), k=100_000)
        windows.append(len(every))
        weak += sum(1 for o in every if round(o.confidence, 2) < WEAK)
    total = plan.n_served + plan.n_unserved
    return Row(
        city=city,
        confidence=confidence or None,
        routes=plan.n_routes,
        km=round((plan.distance_m or 0) / 1000, 1),
        cost_eur=round(float(plan.cost or 0.0), 2),
        served=plan.n_served,
        orders=total,
        served_share=round(plan.n_served / total, 3) if total else 0.0,
        options_per_order=round(sum(counts) / len(counts), 2) if counts else 0.0,
        windows_per_order=round(sum(windows) / len(windows), 2) if windows else 0.0,
        weak_share=round(weak / sum(windows), 3) if sum(windows) else 0.0,
        asked=len(counts),
        with_option_share=round(sum(1 for c in counts if c) / len(counts), 3) if counts else 0.0,
        min_option_confidence=lowest,
    )


def table(rows: Sequence[Row]) -> str:
    """The rows as a plain-text table."""
    head = (
        f"{'city':<10} {'confidence':>10} {'routes':>6} {'km':>8} {'EUR':>9} {'served':>8} "
        f"{'options/order':>13} {'windows/order':>13} {'weak':>6} {'with option':>11} "
        f"{'min conf':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        conf = "off" if r.confidence is None else f"{r.confidence:g}"
        low = "-" if r.min_option_confidence is None else f"{r.min_option_confidence:.3f}"
        lines.append(
            f"{r.city:<10} {conf:>10} {r.routes:>6} {r.km:>8.1f} {r.cost_eur:>9.2f} "
            f"{r.served_share:>8.1%} {r.options_per_order:>13.2f} {r.windows_per_order:>13.2f} "
            f"{r.weak_share:>6.1%} {r.with_option_share:>11.1%} {low:>8}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the table (and write ``--json``). Exit code 0."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.promise_buffer", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--city", choices=("synthetic", "helsinki", "both"), default="both")
    parser.add_argument("--orders", type=int, default=200, help="orders of the day (demo: 200)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=20.0, help="seconds per solve")
    parser.add_argument("--sample", type=int, default=40, help="orders that ask for options")
    parser.add_argument(
        "--confidences",
        type=parse_confidences,
        default=CONFIDENCES,
        help="comma-separated, 'off' for no buffer (default off,0.8,0.9,0.95)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    cities = ["synthetic", "helsinki"] if args.city == "both" else [args.city]
    rows: list[Row] = []
    with Progress("promise buffer", len(cities) * len(args.confidences), unit="plans") as bar:
        for city in cities:
            rows.extend(
                measure_city(
                    city,
                    orders=args.orders,
                    seed=args.seed,
                    time_limit=args.time_limit,
                    sample=args.sample,
                    confidences=args.confidences,
                    progress=bar,
                )
            )
    print(table(rows))
    if args.json is not None:
        figures = {
            "cities": {c: [asdict(r) for r in rows if r.city == c] for c in cities},
            "orders": args.orders,
            "seed": args.seed,
            "time_limit_s": args.time_limit,
            "sample": args.sample,
            "date": datetime.now(UTC).date().isoformat(),
            "cpus": os.cpu_count(),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
