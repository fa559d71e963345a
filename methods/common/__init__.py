"""Shared parts of every method, each written once."""
