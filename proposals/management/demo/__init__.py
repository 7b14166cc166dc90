"""Helpers of `seed_demo`: what the demo says, when it happened, how it is written."""
