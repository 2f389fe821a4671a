"""Relief's SQL: explicit statements over asyncpg, each in the caller's transaction."""
