"""Time on the move, which a robot's remote supervision is paid for, within the time out."""

from __future__ import annotations

from simulation.scenario import Scenario
from simulation.twin import Twin


def test_time_on_the_move_is_part_of_the_time_out_of_the_hub(tiny: Scenario) -> None:
    twin = Twin(tiny.with_changes({"demand.preferences.robot_acceptance": 1.0}))
    twin.run()
    assert any(a.moving_s for a in twin.agents)
    for a in twin.agents:
        assert 0 <= a.moving_s <= a.active_s + 1  # active_s is whole seconds per trip
        assert (a.moving_s > 0) == (a.km_m > 0)
