"""Enrollment's database access: explicit SQL over asyncpg, one function per question."""
