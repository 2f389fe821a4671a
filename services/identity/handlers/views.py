"""Reads: the signed-in account as its holder sees it."""

import uuid
from dataclasses import dataclass

from services.identity.domain.realname import STATUS_LABELS, RealNameStatus
from services.identity.handlers.common import Deps
from services.identity.store import accounts
from shared.errors import NotFound
from shared.pii import mask_phone


@dataclass(frozen=True)
class AccountView:
    account_id: uuid.UUID
    kind: str
    phone_masked: str | None
    realname_status: RealNameStatus
    realname_label: str
    person_id: uuid.UUID | None
    member_id: uuid.UUID | None


async def my_account(deps: Deps, account_id: uuid.UUID) -> AccountView:
    async with deps.pool.acquire() as conn:
        account = await accounts.get_account(conn, account_id)
    if account is None:
        raise NotFound("账号不存在")
    status = RealNameStatus(account.realname_status)
    phone = deps.pii.decrypt(account.phone_sealed) if account.phone_sealed else None
    return AccountView(
        account_id=account.account_id,
        kind=account.kind,
        phone_masked=mask_phone(phone) if phone else None,
        realname_status=status,
        realname_label=STATUS_LABELS[status],
        person_id=account.person_id,
        member_id=account.person_id,  # enrollment's member id is the person id
    )
