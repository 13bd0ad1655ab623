"""A stand-in for a ZStack management node (REST v1 + RPC) with fault injection, run as a real process."""
