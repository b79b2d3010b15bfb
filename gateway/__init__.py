"""HTTP gateway: the public REST API v1 in front of the gRPC services (DESIGN.md §7)."""
