"""The ``lastmile`` command line, built on :mod:`click`; the entry point is :func:`main`.

One module per command, named for it:

* ``lastmile demo`` (:mod:`api.cli.demo_command`) seeds one realistic delivery day into the
  store (:mod:`api.cli.demo`), on a synthetic city or on central Helsinki, plans it through
  the orchestrator, prints the routes and the unserved orders, writes ``routes.geojson`` and
  an interactive ``map.html`` (:mod:`api.cli.maps`), dispatches a route so the day is under
  way, names every file it wrote and prints a tour of commands and links to try
  (:mod:`api.cli.tour`).
* ``lastmile simulate SCENARIO.TOML [--sweep SWEEP.TOML | --axis PATH=V1,V2 ...]``
  (:mod:`api.cli.simulate_command`) runs the what-if simulator (:mod:`simulation`, imported
  only by this command) on one scenario or a sweep and writes ``report.json``,
  ``report.csv``, ``report.parquet``, ``report.html`` and the plots into ``--out``
  (:mod:`api.runtime.simulation_runs`).
* ``lastmile import ORDERS.CSV [--dry-run]`` (:mod:`api.cli.import_command`) registers the
  orders of a CSV file (:func:`orchestrator.intake.importer.import_orders`; the columns are
  documented there and in ``docs/import.md``): all of them or, when any row is wrong, none,
  listing every error as ``FILE:LINE:COLUMN: message``.
* ``lastmile plan --depot ID --day YYYY-MM-DD`` (:mod:`api.cli.plan_command`) plans a
  depot's day from the store (a day without open orders: it names the days that have some).
* ``lastmile link ORDER_ID [--route]`` (:mod:`api.cli.link_command`) prints a signed page link.
* ``lastmile serve --host H --port P`` (:mod:`api.cli.serve_command`) serves the HTTP API
  (:func:`api.app.create_app`) with uvicorn.
* ``lastmile keys create --role ROLE [--customer ID]`` (:mod:`api.cli.keys_command`) creates
  an API key and prints it as the last line of its output; ``lastmile keys list`` lists the
  keys (never a key itself) and ``lastmile keys revoke PREFIX_OR_ID`` revokes one.

All of them work on an empty ``LASTMILE_DATABASE_URL``: the schema is created on first use.
A command that plans builds one travel-time provider from its settings and hands it to the
services. The group, ``--version`` and :func:`main` are in :mod:`api.cli.program`; the
parameter types in :mod:`api.cli.parsing`; long commands show their progress on standard
error with :mod:`api.cli.progress`; the environment variables' table is
:mod:`api.cli.settings_table`.

Exit codes: 0 success; 1 the command failed (the message says why); 2 bad arguments (one line
on stderr naming the argument and the fix) or, for ``import``, a file with errors (every
error on a line of its own).
"""

from api.cli.program import cli, main

__all__ = ["cli", "main"]
