"""What the reports routes stand on (made at start, services/reports/app.py)."""

from dataclasses import dataclass
from typing import Annotated

import asyncpg

from shared.http import AppDeps


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool


DepsDep = Annotated[Deps, AppDeps]
