"""Frozen, typed data for the cluster: configuration (the CIB) and status."""
