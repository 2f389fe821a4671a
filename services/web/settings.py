"""The web service's settings: where the services it forwards to are. No database, no Kafka."""

from pydantic import Field

from shared.settings import HttpSettings


class WebSettings(HttpSettings):
    http_port: int = 8000
    identity_url: str = "http://127.0.0.1:8007"
    enrollment_url: str = "http://127.0.0.1:8001"
    cards_url: str = "http://127.0.0.1:8002"  # the projector: cards, offers, merchants, inbox
    partners_url: str = "http://127.0.0.1:8006"
    relief_url: str = "http://127.0.0.1:8003"
    legal_url: str = "http://127.0.0.1:8004"
    competitions_url: str = "http://127.0.0.1:8005"
    reports_url: str = "http://127.0.0.1:8008"  # the console's coverage and reports
    # One upstream call may take this long before the page is told 503.
    web_upstream_timeout: float = Field(default=10.0, gt=0, le=60)

    def upstreams(self) -> dict[str, str]:
        """Base URL by the name the pages use in /api/{service}/..."""
        return {
            "identity": self.identity_url,
            "enrollment": self.enrollment_url,
            "projector": self.cards_url,
            "partners": self.partners_url,
            "relief": self.relief_url,
            "legal": self.legal_url,
            "competitions": self.competitions_url,
            "reports": self.reports_url,
        }
