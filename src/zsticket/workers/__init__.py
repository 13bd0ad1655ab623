"""Background workers: executing approved tickets' calls."""
