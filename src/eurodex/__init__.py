"""eurodex: a continuously verified register of official European public-sector APIs."""

__version__ = "0.1.0"
