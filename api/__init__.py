"""The HTTP API and the command line, thin layers over orchestrator and simulation.

* The HTTP server: :mod:`api.app` (:func:`~api.app.create_app`), :mod:`api.deps` (the
  ``Annotated`` dependencies: store session, travel-time provider, caller's key),
  :mod:`api.errors` (domain errors to HTTP), :mod:`api.geo` (a stored plan as GeoJSON) and
  :mod:`api.routes` (one router per resource).
* :mod:`api.runtime` — what runs beside the server: worker processes for plan and simulation
  jobs, serving on several processes, simulation runs into a folder of reports.
* :mod:`api.cli` — the ``lastmile`` command line, the demo and its map.
"""
