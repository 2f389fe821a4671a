"""The identity service's ports to the outside: how one-time codes reach a phone, and who checks
that a name and an ID number belong together (an ID number is no secret, so its checksum is not
verification). Adapters in services/identity/adapters/ implement them."""

from enum import StrEnum
from typing import Protocol


class NotifierUnavailable(Exception):
    """The channel cannot take the code now (gateway down, refused, timed out): the caller answers
    503 with Retry-After and records nothing as sent."""


class CodeNotifier(Protocol):
    async def send_code(self, phone: str, code: str, *, purpose: str) -> None:
        """Deliver a one-time code to a mobile number (11 digits, mainland China).
        `purpose` names what the code is for ("sign_in"). Raises NotifierUnavailable."""
        ...


class RealNameVerdict(StrEnum):
    MATCH = "match"  # the name and the ID number belong to one living person
    MISMATCH = "mismatch"  # they do not (or the number is unknown to the provider)


class ProviderUnavailable(Exception):
    """The verification provider cannot answer now: the member is asked to try again later."""


class RealNameProvider(Protocol):
    async def verify(self, name: str, national_id: str) -> RealNameVerdict:
        """Ask the provider whether the name and the 18-character ID number belong together.
        Raises ProviderUnavailable."""
        ...
