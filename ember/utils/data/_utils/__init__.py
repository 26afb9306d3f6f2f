"""Internals of the DataLoader: collation, fetching, worker processes."""
