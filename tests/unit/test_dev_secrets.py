"""Development secrets (.run/secrets.env): the dev token key pair is made once, an old file's
AUTH_SECRET carries over as PERSON_KEY_SECRET, and services get the public key only."""

from pathlib import Path

import pytest

from scripts import stack
from shared.auth import load_private_key, load_public_key

NAMES = (
    "PERSON_KEY_SECRET",
    "PII_KEY",
    "IDENTITY_KEY_SECRET",
    "REALNAME_PROVIDER_KEY",
    "DEV_TOKEN_PRIVATE_KEY",
    "DEV_TOKEN_PUBLIC_KEY",
)


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(stack, "RUN_DIR", tmp_path)
    for name in (*NAMES, "AUTH_SECRET", "IDENTITY_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("POSTGRES_DSN", "postgresql://u:p@127.0.0.1:5432/postgres")
    return tmp_path


def test_the_secrets_are_made_once_with_a_dev_key_pair(run_dir: Path) -> None:
    first = stack.dev_secrets()
    assert set(first) == set(NAMES)
    load_private_key(first["DEV_TOKEN_PRIVATE_KEY"])
    load_public_key(first["DEV_TOKEN_PUBLIC_KEY"])
    assert stack.dev_secrets() == first
    assert (run_dir / "secrets.env").stat().st_mode & 0o777 == 0o600


def test_an_old_auth_secret_carries_over_as_the_person_key_secret(run_dir: Path) -> None:
    old = "an-old-development-auth-secret-" + "o" * 20
    (run_dir / "secrets.env").write_text(f"AUTH_SECRET={old}\nPII_KEY={'p' * 40}\n")
    made = stack.dev_secrets()
    assert made["PERSON_KEY_SECRET"] == old and made["PII_KEY"] == "p" * 40
    assert "AUTH_SECRET" not in (run_dir / "secrets.env").read_text()
    assert stack.dev_secrets() == made


def test_services_get_the_public_key_only(run_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = stack.dev_secrets()
    monkeypatch.setenv("DEV_TOKEN_PRIVATE_KEY", secrets["DEV_TOKEN_PRIVATE_KEY"])  # even when exported
    env = stack.service_env(stack.SERVICES[0], extra={"DEV_TOKEN_PRIVATE_KEY": "x"})
    assert "DEV_TOKEN_PRIVATE_KEY" not in env
    assert env["DEV_TOKEN_PUBLIC_KEY"] == secrets["DEV_TOKEN_PUBLIC_KEY"]
    assert env["PERSON_KEY_SECRET"] == secrets["PERSON_KEY_SECRET"]


def test_only_identity_holds_the_secret_that_wraps_its_signing_keys(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = stack.dev_secrets()
    monkeypatch.setenv("IDENTITY_KEY_SECRET", secrets["IDENTITY_KEY_SECRET"])  # even when exported
    by_name = {spec.name: spec for spec in stack.SERVICES}
    assert stack.service_env(by_name["identity"])["IDENTITY_KEY_SECRET"] == secrets["IDENTITY_KEY_SECRET"]
    for name in ("enrollment", "projector", "relief", "legal", "competitions", "partners"):
        env = stack.service_env(by_name[name])
        assert "IDENTITY_KEY_SECRET" not in env and "REALNAME_PROVIDER_KEY" not in env, name


def test_the_jwks_url_is_given_once_identity_is_a_service() -> None:
    assert stack.token_env({"relief": 8003}) == {}
    assert stack.token_env({"identity": 8007, "relief": 8003}) == {
        "IDENTITY_JWKS_URL": "http://127.0.0.1:8007/.well-known/jwks.json"
    }
    assert stack.token_env({"identity": 8007, "relief": 8003}, "identity") == {}


def test_the_web_service_holds_no_secret_and_no_database(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = stack.dev_secrets()
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)  # even when exported
    web = next(spec for spec in stack.SERVICES if spec.name == "web")
    env = stack.service_env(
        web, extra={"PII_KEY": "x" * 40, **stack.peers_of("web", {s.name: s.port for s in stack.SERVICES})}
    )
    assert not set(NAMES) & set(env), "the web service forwards the caller's own credentials only"
    assert "DATABASE_URL" not in env
    assert env["CARDS_URL"] == "http://127.0.0.1:8002" and env["IDENTITY_URL"] == "http://127.0.0.1:8007"
