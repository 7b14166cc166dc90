"""`make chaos`: the bad day, as real processes, and one table of what survived it.

`harness.py` holds the parts that break (a Redis server of our own, Celery
workers and beat as child processes, a webhook receiver); `scenarios.py` the
four scenarios; `__main__.py` runs them on a PostgreSQL database of their own.
The test suite runs a small version of each (tests/test_chaos.py).
"""
