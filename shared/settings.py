"""Settings common to every service, read from the environment."""

from typing import ClassVar, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.contracts.topics import dead_letter_topic


class HttpSettings(BaseSettings):
    """What every service process has, with or without a database and Kafka (the web service)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    zhijia_mode: Literal["development", "production"] = "development"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    log_format: str = Field(default="json", pattern="^(json|console)$")


class ServiceSettings(HttpSettings):
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Lets tests and parallel environments share one broker without sharing topics.
    topic_prefix: str = ""
    topic_partitions: int = Field(default=6, ge=1, le=1024)
    database_url: str
    # Wraps the person keys on their topic (shared/person_keys.py); it signs nothing.
    person_key_secret: SecretStr = Field(min_length=32)
    # Identity's public keys (GET /.well-known/jwks.json); unset until identity runs.
    identity_jwks_url: str | None = None
    # The development issuer's public key (`make token`), PEM or base64 of it: trusted only
    # outside production mode (docs/auth.md).
    dev_token_public_key: str | None = None

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


class ConsumingSettings(ServiceSettings):
    """Settings of a service that reads topics as one consumer group (its replicas share it)."""

    service: ClassVar[str]
    batch_size: int = 500

    @property
    def consumer_name(self) -> str:
        return f"{self.topic_prefix}{self.service}"

    @property
    def dead_letter_topic(self) -> str:
        return self.topic(dead_letter_topic(self.service))
