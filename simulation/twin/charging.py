"""Robots' charging: a robot back at its hub queues for a dock and charges until full or sent out.

A hub's docks are a :class:`simpy.Resource` (``chargers`` of the scenario's hub) and a robot's
battery a :class:`simpy.Container` holding metres of range. A robot on a dock settles its
charge when it leaves (:func:`charge` is interrupted), so :func:`battery_level` counts the
charging under way.

Units: metres of range, seconds.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simulation.world import HOUR_S

if TYPE_CHECKING:
    from simulation.twin.setup import Twin
    from simulation.twin.vehicles import Agent

__all__ = ["battery_level", "charge", "charged_so_far"]


def charge(env: simpy.Environment, twin: Twin, agent: Agent) -> Generator[simpy.Event, Any, None]:
    """A robot at its hub queues for a dock and charges until full or dispatched."""
    battery = agent.battery
    assert battery is not None
    rate = battery.capacity / (twin.scenario.fleet.robots.recharge_h * HOUR_S)
    dock = twin.chargers[agent.hub]
    with dock.request() as slot:
        try:
            yield slot
            agent.charge_since = env.now
            missing = battery.capacity - battery.level
            if missing > 0:
                yield env.timeout(missing / rate)
        except simpy.Interrupt:
            pass
        gained = charged_so_far(twin, agent)
        agent.charge_since = None
        gained = min(gained, battery.capacity - battery.level)
        if gained > 0:
            yield battery.put(gained)


def battery_level(twin: Twin, agent: Agent) -> float:
    """A robot's charge now, metres of range, counting the charging under way."""
    assert agent.battery is not None
    return min(agent.battery.capacity, agent.battery.level + charged_so_far(twin, agent))


def charged_so_far(twin: Twin, agent: Agent) -> float:
    """Metres of range a robot has gained on the dock since it last settled its battery."""
    since = agent.charge_since
    if since is None or agent.battery is None:
        return 0.0
    rate = agent.battery.capacity / (twin.scenario.fleet.robots.recharge_h * HOUR_S)
    return (twin.env.now - since) * rate
