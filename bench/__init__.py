"""Benchmarks: `make bench N=10000` (or `python -m bench --proposals N`).

Each measurement times our code against its floor (the least work that gives
the same answer, e.g. one raw SQL query for a list) on a seeded PostgreSQL
database, and counts queries. Benchmarks are not tests: nothing here asserts
a time. Add a row with `@measurement` in bench/measurements.py.
"""
