"""Pipeline steps: one module per step, each a Prefect task over plain functions that do the work."""
