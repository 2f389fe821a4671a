"""A person's data as one service holds it (个人信息副本, PIPL art. 45): the section each service
answers at `GET /members/{member_id}/personal-data`, for the member themself, and which
enrollment gathers into the export a cadre approved."""

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue


class PersonalRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str = Field(description="what the record is, e.g. relief_case, visit, honour")
    title: str = Field(description="the kind in Chinese, for the reader")
    record_id: str
    recorded_at: datetime | None = None
    data: dict[str, JsonValue] = Field(description="the record's fields as the service stores them")


class TrailRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    actor: str
    action: str
    subject: str
    reason: str | None = None


class PersonalDataSection(BaseModel):
    model_config = ConfigDict(frozen=True)

    service: str
    member_id: uuid.UUID
    generated_at: datetime
    records: list[PersonalRecord]
    trail: list[TrailRecord] = Field(description="every decision recorded on these records")


class SectionInExport(BaseModel):
    """A service's section in the export, or why it is missing (the export is still given)."""

    model_config = ConfigDict(frozen=True)

    service: str
    status: Literal["included", "unavailable"]
    note: str = Field(description="in Chinese, for the member")
    section: PersonalDataSection | None = None
