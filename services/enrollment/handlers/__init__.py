"""Enrollment's use cases: each takes a command, checks scope, and commits state with its events."""
