"""`make bench`: the platform measured against this machine's own bare stack (see bench/README.md)."""
