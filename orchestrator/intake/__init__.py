"""What comes in: retailers, customers and their places, depots, stores and the fleet (the
standing data), orders one by one (idempotently) and orders from a CSV file (all or nothing)."""
