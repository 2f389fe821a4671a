"""Each partner's two topics under the deployment's prefix, and the pattern that finds them all."""

import re
from dataclasses import dataclass

from shared.contracts.topics import partner_offers_topic, partner_rejections_topic


@dataclass(frozen=True)
class PartnerTopics:
    prefix: str

    def offers(self, partner_id: str) -> str:
        return f"{self.prefix}{partner_offers_topic(partner_id)}"

    def rejections(self, partner_id: str) -> str:
        return f"{self.prefix}{partner_rejections_topic(partner_id)}"

    def offers_pattern(self) -> str:
        """Every partner's offers topic, for one pattern subscription (new partners included);
        the same expression names the partner a topic belongs to."""
        return f"^{re.escape(self.prefix)}partners\\.(?P<partner>[a-z0-9-]+)\\.offers\\.v1$"

    def subscription_pattern(self, enrollment_events: str) -> str:
        """What the service's consumer reads: every partner's offers topic and enrollment's events
        (for PersonErased: the till's tables hold member ids), in one pattern subscription."""
        offers = self.offers_pattern().removeprefix("^").removesuffix("$").replace("?P<partner>", "")
        return f"^(?:{offers}|{re.escape(self.prefix + enrollment_events)})$"

    def partner_of(self, topic: str) -> str | None:
        match = re.fullmatch(self.offers_pattern(), topic)
        return match["partner"] if match else None
