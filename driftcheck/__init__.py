"""driftcheck: find the snowflakes in a fleet."""

__version__ = "0.1.0"
