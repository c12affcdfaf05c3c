"""Who may call the service: API keys, their roles and the customer a key belongs to."""
