"""Competitions storage: explicit SQL over asyncpg."""
