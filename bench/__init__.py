"""Benchmarks: plain functions that `make bench` calls (each returns its numbers)."""
