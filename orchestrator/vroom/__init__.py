"""VROOM's JSON format in and out: a standalone VROOM problem solved with lastmile's engine."""
