"""The processes beside the web server: where long work runs and how the server is served.

* :mod:`api.runtime.jobs` — pools of worker processes: plan jobs, simulation jobs and the
  synchronous ``POST /solve/vroom`` solves;
* :mod:`api.runtime.serve` — serving the app on one process or several sharing the port;
* :mod:`api.runtime.simulation_runs` — a scenario or a sweep run into a folder of reports,
  for a simulation job and for ``lastmile simulate``.

Nothing is re-exported here: importing :mod:`api.runtime.serve` (``lastmile serve``, the
benchmarks) should not import the simulator that :mod:`api.runtime.simulation_runs` needs.
"""
