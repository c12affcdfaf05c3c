"""Who may call the service: API keys, their roles, the customer and the retailer a key
belongs to, and which retailer's rows a key sees (:mod:`orchestrator.access.tenancy`)."""
