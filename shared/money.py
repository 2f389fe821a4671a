"""Money as the services take it: integers of fen (分), never floats."""

from typing import Annotated

from pydantic import Field

# Strict: "12.5" or 12.5 is refused rather than silently turned into fen.
Fen = Annotated[
    int, Field(strict=True, ge=0, le=10**15, description="an amount in fen (分): 100 fen = 1 yuan")
]
PositiveFen = Annotated[int, Field(strict=True, gt=0, le=10**15, description="fen (分), more than 0")]
