"""Request and response bodies of the identity API."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.identity.domain.codes import CODE, PHONE, Purpose
from services.identity.domain.realname import NATIONAL_ID, Decision, DisputeStatus, RealNameStatus

PhoneField = Field(pattern=PHONE.pattern, min_length=11, max_length=11, examples=["13800138000"])


class CodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = PhoneField
    purpose: Purpose = Purpose.SIGN_IN


class CodeSentOut(BaseModel):
    """The same answer whether or not the number has an account."""

    status: Literal["sent"] = "sent"
    message: str = "如该号码可用，验证码已发送，5 分钟内有效"
    expires_in: int = 300


class SignInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = PhoneField
    code: str = Field(pattern=CODE.pattern, min_length=6, max_length=6, examples=["123456"])


class RefreshIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=20, max_length=200)


class WebTokenOut(BaseModel):
    """A browser's access token; the refresh token stays in its HttpOnly cookie."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 (the scheme's name)
    expires_in: int
    account_id: uuid.UUID


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    account_id: uuid.UUID
    kind: str
    phone_masked: str | None
    realname_status: RealNameStatus
    realname_label: str = Field(description="the real-name status in Chinese")
    person_id: uuid.UUID | None
    member_id: uuid.UUID | None


class RealNameIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=50, examples=["张三"])
    national_id: str = Field(pattern=NATIONAL_ID.pattern, min_length=18, max_length=18)


class RealNameOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: RealNameStatus
    person_id: uuid.UUID
    member_id: uuid.UUID
    message: str = "实名认证成功，请刷新登录状态以获取会员身份"


class DisputeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    dispute_id: uuid.UUID
    account_id: uuid.UUID
    person_id: uuid.UUID
    holder_id: uuid.UUID | None
    union_path: list[uuid.UUID] | None
    opened_at: datetime
    status: DisputeStatus
    settled_at: datetime | None
    settled_by: str | None
    reason: str | None


class SettleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Decision
    reason: str = Field(min_length=1, max_length=500)


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key_id: uuid.UUID
    created_at: datetime
    activates_at: datetime


class KeysOut(BaseModel):
    rotated: KeyOut | None = None
    keys: list[KeyOut]
    published: list[uuid.UUID]
