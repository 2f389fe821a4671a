"""Competitions HTTP API: thin routes and their bodies."""
