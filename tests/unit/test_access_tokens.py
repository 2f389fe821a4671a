"""EdDSA access tokens: signed by a private key, verified with public keys only."""

import asyncio
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.auth import Principal, TokenRefused, TokenVerifier, public_jwk, sign_access_token
from shared.contracts.identity import ISSUER, MAX_ACCESS_TOKEN_SECONDS, AccessClaims, AccountRole

KEY = Ed25519PrivateKey.generate()
OTHER = Ed25519PrivateKey.generate()
UNION = uuid.uuid4()
CADRE = AccessClaims(sub="acc-1", role=AccountRole.CADRE, union_id=UNION)


class Keys:
    def __init__(self, known: dict[str, Ed25519PublicKey], later: dict[str, Ed25519PublicKey] | None = None):
        self.known = dict(known)
        self.later = later or {}
        self.refreshed = 0

    def key(self, kid: str) -> tuple[str, Ed25519PublicKey] | None:
        k = self.known.get(kid)
        return (ISSUER, k) if k else None

    async def refresh(self) -> None:
        self.refreshed += 1
        self.known.update(self.later)


def verify(verifier: TokenVerifier, token: str, now: float | None = None) -> Principal:
    return asyncio.run(verifier.verify(token, now))


def test_a_signed_token_verifies_with_the_public_key_only() -> None:
    verifier = TokenVerifier(Keys({"k1": KEY.public_key()}))
    principal = verify(verifier, sign_access_token(KEY, "k1", CADRE))
    assert (principal.sub, principal.role, principal.union_id) == ("acc-1", AccountRole.CADRE, UNION)
    assert principal.covers_union([uuid.uuid4(), UNION]) and not principal.covers_union([uuid.uuid4()])


def test_another_key_an_unknown_kid_and_another_algorithm_are_refused() -> None:
    verifier = TokenVerifier(Keys({"k1": KEY.public_key()}))
    with pytest.raises(TokenRefused, match="invalid token"):
        verify(verifier, sign_access_token(OTHER, "k1", CADRE))
    with pytest.raises(TokenRefused, match="unknown key id"):
        verify(verifier, sign_access_token(KEY, "k9", CADRE))
    hs = jwt.encode({"sub": "x", "role": "admin", "iss": ISSUER}, "s" * 40, headers={"kid": "k1"})
    with pytest.raises(TokenRefused):
        verify(verifier, hs)


def test_a_rotated_key_is_fetched_once_when_a_token_names_it() -> None:
    keys = Keys({"k1": KEY.public_key()}, later={"k2": OTHER.public_key()})
    verifier = TokenVerifier(keys)
    assert verify(verifier, sign_access_token(OTHER, "k2", CADRE)).sub == "acc-1"
    assert keys.refreshed == 1


def test_lifetimes_are_capped_when_signing_and_when_verifying() -> None:
    with pytest.raises(ValueError):
        sign_access_token(KEY, "k1", CADRE, ttl_seconds=MAX_ACCESS_TOKEN_SECONDS + 1)
    century = jwt.encode(
        {"sub": "x", "role": "admin", "iss": ISSUER, "aud": "zhijia", "iat": 1_000, "exp": 1_000 + 100 * 365 * 86400},
        KEY, algorithm="EdDSA", headers={"kid": "k1"},
    )  # fmt: skip
    with pytest.raises(TokenRefused, match="at most"):
        verify(TokenVerifier(Keys({"k1": KEY.public_key()})), century, now=2_000)


def test_an_expired_token_is_refused_even_when_remembered() -> None:
    verifier = TokenVerifier(Keys({"k1": KEY.public_key()}))
    token = sign_access_token(KEY, "k1", CADRE, ttl_seconds=60, now=10_000)
    assert verify(verifier, token, now=10_030).sub == "acc-1"
    with pytest.raises(TokenRefused, match="expired"):
        verify(verifier, token, now=10_061)


def test_the_public_jwk_is_an_okp_ed25519_key() -> None:
    jwk = public_jwk(KEY.public_key(), "k1")
    assert (jwk["kty"], jwk["crv"], jwk["kid"], jwk["alg"]) == ("OKP", "Ed25519", "k1", "EdDSA")
    assert "d" not in jwk
    assert jwt.PyJWK(jwk).key_id == "k1"
