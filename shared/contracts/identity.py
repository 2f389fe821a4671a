"""Identity (统一身份认证): who signs in, and what every service trusts of it.

Two contracts live here:

- **Access tokens.** JWTs signed by the identity service with Ed25519 (`alg` EdDSA), the
  signing key named by `kid` in the header. Every other service verifies them with the public
  keys of identity's JWKS (`GET /.well-known/jwks.json`) and holds no signing secret
  (shared/auth.py). `AccessClaims` are the claims; an access token lives at most
  `MAX_ACCESS_TOKEN_SECONDS`, and a token that claims to live longer is refused even if signed.
  In development and tests only, tokens may also come from the development issuer
  (`DEV_ISSUER`, `make token`), whose public key a service trusts only outside production mode.
- **Events of the identity service** on `identity.events.v1`: role bindings granted and revoked,
  accounts disabled, sessions revoked. The kit follows the revocations of the last
  `REVOCATION_HORIZON_SECONDS` (no consumer group) and refuses a token whose binding, account or
  session is revoked, within seconds, well before the token expires (docs/auth.md). They carry
  no personal data: account ids, roles, scopes.
"""

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.contracts.envelope import EventPayload, event_contract

ISSUER = "zhijia-identity"
DEV_ISSUER = "zhijia-dev"
AUDIENCE = "zhijia"
ALGORITHM = "EdDSA"
MAX_ACCESS_TOKEN_SECONDS = 15 * 60
# A revocation only matters while a token issued before it may still be alive (plus clock skew).
REVOCATION_HORIZON_SECONDS = MAX_ACCESS_TOKEN_SECONDS + 5 * 60


class AccountRole(StrEnum):
    """A role a token carries. Members sign in with their phone; the rest are staff bindings."""

    MEMBER = "member"
    CADRE = "cadre"  # of a union (its scope: the union and every union below); judges are cadres
    ADMIN = "admin"
    COUNSEL = "counsel"  # legal counsel on a union's roster (legal's counsel_id)
    PARTNER_STAFF = "partner_staff"  # a partner's till staff (partners' partner_id)
    SERVICE = "service"  # a service acting for itself (identity asking enrollment to link a person)


class AccessClaims(BaseModel):
    """The claims of an access token (besides iss, aud, iat, exp, jti which the signer sets)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sub: str = Field(min_length=1, max_length=200, description="account id (or a dev/test name)")
    role: AccountRole
    # member: the person the account is linked to (enrollment's person id, the member id once
    # enrolled); absent before real-name verification.
    member_id: uuid.UUID | None = None
    union_id: uuid.UUID | None = None  # cadre, counsel: the binding's union
    partner_id: str | None = Field(default=None, max_length=100)  # partner_staff
    counsel_id: uuid.UUID | None = None  # counsel
    bid: uuid.UUID | None = Field(default=None, description="the role binding (staff roles)")
    sid: uuid.UUID | None = Field(default=None, description="the sign-in session (refresh family)")

    @model_validator(mode="after")
    def _scope_of_the_role(self) -> "AccessClaims":
        if self.role in (AccountRole.CADRE, AccountRole.COUNSEL) and self.union_id is None:
            raise ValueError(f"a {self.role} token must name union_id")
        if self.role is AccountRole.PARTNER_STAFF and not self.partner_id:
            raise ValueError("a partner_staff token must name partner_id")
        return self


class ScopeRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    union_id: uuid.UUID | None = None
    partner_id: str | None = Field(default=None, max_length=100)
    counsel_id: uuid.UUID | None = None


@event_contract("identity.RoleBindingGranted", 1)
class RoleBindingGranted(EventPayload):
    binding_id: uuid.UUID
    account_id: uuid.UUID
    role: AccountRole
    scope: ScopeRef
    granted_by: str
    granted_at: datetime


@event_contract("identity.RoleBindingRevoked", 1)
class RoleBindingRevoked(EventPayload):
    binding_id: uuid.UUID
    account_id: uuid.UUID
    revoked_by: str
    revoked_at: datetime


@event_contract("identity.AccountDisabled", 1)
class AccountDisabled(EventPayload):
    """Every token of the account stops working (sign-out everywhere, a lost phone, a leaver)."""

    account_id: uuid.UUID
    disabled_at: datetime


@event_contract("identity.SessionRevoked", 1)
class SessionRevoked(EventPayload):
    """A sign-in session ended (sign-out, a reused refresh token, a revoked binding): every
    access token carrying its `sid` stops working."""

    session_id: uuid.UUID
    account_id: uuid.UUID
    revoked_at: datetime
