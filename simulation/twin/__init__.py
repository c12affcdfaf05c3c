"""The digital twin: SimPy processes that run the production policies on simulated time.

One replication is one :class:`Twin`: a SimPy environment, the world drawn for it
(:mod:`simulation.world`) and these processes, each a generator that takes ``env`` first:

* :func:`order_arrivals` — orders reach the system over the day; each customer chooses a place
  and a window, through the concierge's options
  (:func:`orchestrator.concierge.options.delivery_options` on the day's tentative plan, built
  and extended by cheap insertion) or home-only slots, and eco customers' orders may be
  deferred (:func:`orchestrator.concierge.consolidation.consolidate`);
* :func:`planner` — planning waves and re-plans: the waiting orders and the idle vehicles of
  each hub become planning input (:mod:`orchestrator.planning.inputs` values),
  :func:`orchestrator.planning.problem.build_problem` turns them into a routing problem and
  :func:`routing.solve` plans it, repeatably (PyVRP seed by iterations, OR-Tools' first
  solution); only the trips that must leave before the next plan are handed out, the rest is
  planned again then (a rolling horizon);
* :func:`drive` — a vehicle drives its route with noisy legs and service times, waits for
  windows, tries each drop (the customer may be elsewhere) and each pickup of a return, and
  comes back;
* :func:`charge` — a robot back at its hub queues for a charging dock (a
  :class:`simpy.Resource`) and charges its battery (a :class:`simpy.Container`) until full or
  dispatched; a robot is only planned for trips its charge covers and turns back before a leg
  that its charge could not bring home;
* :func:`courier` — a crowdsourced courier reaches the hub and goes through production's flow:
  the bundle on their way home from the offer rule
  (:func:`orchestrator.commuting.bundle.best_bundle`), priced by the payout rule against the
  hub's current plan (:func:`orchestrator.commuting.payout.decide`); offered, they accept or
  refuse (logistic in pay and detour), may not show up, ride and drop;
* :func:`day_end` — at midnight what is still waiting moves to the next day or, after the last
  day, ends unserved.

Where things live:

* :mod:`~simulation.twin.setup` — :class:`Twin`: building a replication from a scenario (random
  streams, world, returns market, hubs, vehicles, docks), its clock, :meth:`Twin.run` and the
  end-of-run checks;
* :mod:`~simulation.twin.orders` — :class:`OrderState` and :class:`Status`, an order through the
  twin;
* :mod:`~simulation.twin.arrivals` — :func:`order_arrivals` and a new order's service day;
* :mod:`~simulation.twin.customers` — the customer's choice of day, place and window (concierge
  or home-only slots);
* :mod:`~simulation.twin.planning` — :func:`planner` and :func:`~simulation.twin.planning.plan`,
  and each hub's current plan as the couriers' payout rule reads it
  (:class:`~simulation.twin.planning.VanPlan`);
* :mod:`~simulation.twin.plan_inputs` — the twin's vehicles, orders and returns as the production
  planner's input;
* :mod:`~simulation.twin.vehicles` — :class:`Agent`, :class:`Trip` and :func:`drive`;
* :mod:`~simulation.twin.charging` — :func:`charge` and a robot's battery level;
* :mod:`~simulation.twin.couriers` — :func:`courier`, the bundle offered and the pool's log;
* :mod:`~simulation.twin.returns` — returns asked for, picked up and brought to a store or the
  hub;
* :mod:`~simulation.twin.outcomes` — drops, failed attempts back at the hub, :func:`day_end`;
* :mod:`~simulation.twin.promises` — what the customer confirmed, whether it was kept, and
  the notice a promise-keeping policy sends before a miss;
* :mod:`~simulation.twin.watch` — the promise-keeping policy (``policies.promises = "kept"``):
  plans and offers on the buffer of the spread the twin learns from its own legs and stops,
  customers asked before the trip sets out, routes watched as they run;
* :mod:`~simulation.twin.service` — seconds at a stop.

Randomness comes from generators spawned from one :class:`numpy.random.SeedSequence` per
replication, one per concern (world, travel noise, presence, couriers, returns), never the
global one: same scenario and seed ⇒ same events ⇒ same report, byte for byte.

Units: seconds since midnight of the first simulated day (local time at the hubs), metres,
grams, millilitres, EUR, grams CO2.
"""

from simulation.twin.arrivals import order_arrivals
from simulation.twin.charging import charge
from simulation.twin.couriers import CourierLog, courier
from simulation.twin.orders import FINAL, OrderState, Status
from simulation.twin.outcomes import day_end
from simulation.twin.planning import planner
from simulation.twin.setup import CountingEnvironment, Twin
from simulation.twin.vehicles import Agent, Trip, drive

__all__ = [
    "FINAL",
    "Agent",
    "CountingEnvironment",
    "CourierLog",
    "OrderState",
    "Status",
    "Trip",
    "Twin",
    "charge",
    "courier",
    "day_end",
    "drive",
    "order_arrivals",
    "planner",
]
