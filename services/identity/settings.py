"""The identity service's settings, read from the environment."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from shared.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    http_port: int = 8007
    pii_key: SecretStr = Field(min_length=32)
    # Wraps the signing keys at rest (AES-GCM with a key derived from it).
    identity_key_secret: SecretStr = Field(min_length=32)
    # Enrollment, asked to link a verified person to an account.
    enrollment_url: str = "http://127.0.0.1:8001"
    # Where one-time codes go: "dev" appends them to a file (`make codes`), "sms" to the gateway.
    identity_notifier: Literal["dev", "sms"] = "dev"
    identity_dev_codes_file: Path = Path(".run/codes.log")
    # The real-name verification provider (unset: real-name verification answers 503).
    realname_provider_url: str | None = None
    # Lifetimes: access tokens (capped at 15 min by the contract), refresh families (absolute).
    identity_access_token_seconds: int = Field(default=600, ge=30, le=900)
    identity_refresh_days: int = Field(default=30, ge=1, le=90)
    # A new signing key is published this long before it signs (verifiers fetch the JWKS).
    identity_key_lead_seconds: int = Field(default=60, ge=0, le=3600)

    @model_validator(mode="after")
    def _production_sends_real_codes(self) -> "IdentitySettings":
        """In production mode codes go to phones, never to a file, and real names are checked by
        a provider (the development stand-ins would let anyone in)."""
        if self.zhijia_mode == "production":
            if self.identity_notifier == "dev":
                raise ValueError(
                    "ZHIJIA_MODE=production needs IDENTITY_NOTIFIER=sms (codes to phones, not a file)"
                )
            if not self.realname_provider_url:
                raise ValueError(
                    "ZHIJIA_MODE=production needs REALNAME_PROVIDER_URL (docs/identity-adapters.md)"
                )
        return self
