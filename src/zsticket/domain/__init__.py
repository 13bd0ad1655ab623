"""Pure ticket and identity rules (no I/O)."""
