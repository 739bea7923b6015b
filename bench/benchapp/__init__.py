"""The bench's own Django app: one table that workload (d) inserts into."""
