"""Learns model weights for ``matcher``: the normaliser's re-rank, and the scorer from outcomes."""
