"""Database access of the partners service, one module per table group (explicit SQL)."""

import asyncpg

from shared.db import Conn

# Reads that need no transaction may run on the pool itself.
Reader = Conn | asyncpg.Pool
