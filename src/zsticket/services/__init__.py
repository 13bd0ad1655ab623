"""Use cases. Each handler runs inside the one transaction the bus opened for its API call."""
