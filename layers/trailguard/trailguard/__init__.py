"""trailguard: keeps an AWS Organizations trail alive in the management account."""

__version__ = "0.1.0"
