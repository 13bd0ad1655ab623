"""zstack-ticket: a standalone, ZStack-compatible approval (ticket) service."""

__version__ = "0.1.0"
