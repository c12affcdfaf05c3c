"""Background jobs whose state lives in the store: plans solved in the background
(:mod:`~orchestrator.jobs.plans`) and what-if simulations
(:mod:`~orchestrator.jobs.simulations`)."""
