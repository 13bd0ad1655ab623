"""Adapters to systems outside the service: the ZStack management node."""
