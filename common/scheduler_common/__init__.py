"""Shared plumbing for every unit snapshot: what no lesson teaches."""
