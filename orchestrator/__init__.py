"""The domain, the store and the services that turn customers and orders into routing problems."""
