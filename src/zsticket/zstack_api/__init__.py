"""The ZStack wire protocols: REST v1 with api-jobs, and the older RPC endpoint."""
