"""A synthetic but realistic city, built from the real event contracts with a fixed seed.

A union tree (city federation → 8 district federations → street/township unions → base unions,
about 100 members per base union) and the events of a busy day for `members` members, as the
services publish them (same contracts, same topics, keyed by the same subject):

- enrollment: every member applies and is enrolled; ~3 % more applicants are rejected; ~8 % of
  members transfer, ~2 % leave (a quarter of those are reinstated);
- relief (困难职工帮扶): ~3 % of members have a hardship case: report, verification, disclosure,
  approval into the register and one to three disbursements (a fifth are declined);
- legal (法律维权): ~1 % file a dispute that goes through intake to mediation, half are closed;
- competitions: ~5 % enter a contest and get a final result, a fifth of those an award, a few an
  honour (劳模);
- partners (会员普惠): one merchant per 70 members and one offer per 10 members (so the 1,000,000
  member city has ~14,000 merchants and 100,000 offers).

Everything (ids, names, times, choices) comes from one `random.Random(seed)`: the same seed and
size give the same bytes, event for event.
"""

import random
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from shared.contracts import competitions as comp
from shared.contracts import enrollment as enr
from shared.contracts import legal, relief
from shared.contracts import partners as prt
from shared.contracts.envelope import EventEnvelope, EventPayload, encode_event
from shared.contracts.topics import (
    COMPETITIONS_EVENTS,
    ENROLLMENT_EVENTS,
    LEGAL_EVENTS,
    PARTNERS_EVENTS,
    RELIEF_EVENTS,
)

SEED = 20260506
# Members per size; `make bench SIZE=...` picks one.
SIZES: dict[str, int] = {"tiny": 2_000, "small": 20_000, "medium": 200_000, "city": 1_000_000}
CHINA = timezone(timedelta(hours=8))
DAY_START = datetime(2026, 5, 6, 8, 0, tzinfo=CHINA)
CITY = ("330100", "杭州市总工会")
DISTRICTS = [
    ("330102", "上城区"),
    ("330105", "拱墅区"),
    ("330106", "西湖区"),
    ("330108", "滨江区"),
    ("330109", "萧山区"),
    ("330110", "余杭区"),
    ("330111", "富阳区"),
    ("330112", "临安区"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志海燕鹏辉"
EMPLOYERS = [
    "杭州某物流有限公司",
    "浙江某建设集团",
    "杭州某电子商务公司",
    "某外卖平台站点",
    "杭州某纺织厂",
    "某网约车平台",
    "杭州某医院",
    "某连锁超市",
    "杭州某汽车零部件厂",
    "某快递分拨中心",
]
PARTNERS = ["hz-life", "xihu-deals", "qianjiang-pay", "zj-unionmall", "canal-market"]
COMPETITIONS = 24


@dataclass(frozen=True)
class Event:
    """One event as it goes on the wire: its (unprefixed) topic, its key, envelope and payload."""

    topic: str
    key: str
    envelope: EventEnvelope
    payload: EventPayload

    def value(self) -> bytes:
        return encode_event(self.envelope)


@dataclass(frozen=True)
class Union:
    union_id: uuid.UUID
    name: str
    kind: enr.UnionKind
    parent_id: uuid.UUID | None
    region: str
    path: tuple[enr.UnionRef, ...]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def masked_id(rng: random.Random, region: str) -> str:
    return f"{region[:4]}**********{rng.randrange(10_000):04d}"


class City:
    """The union tree and a day's events of a city of `members` members (deterministic for a seed)."""

    def __init__(self, members: int, seed: int = SEED) -> None:
        self.members = members
        self.seed = seed
        self.merchants = max(10, members // 70)
        self.offers = max(20, members // 10)
        rng = random.Random(f"{seed}:unions")
        root_id = _uuid(rng)
        root = Union(
            root_id,
            CITY[1],
            enr.UnionKind.CITY,
            None,
            CITY[0],
            (enr.UnionRef(union_id=root_id, name=CITY[1]),),
        )
        self.unions: list[Union] = [root]
        self.base_unions: list[Union] = []
        base_count = max(len(DISTRICTS), members // 100)
        towns_per_district = max(1, base_count // (len(DISTRICTS) * 12))
        towns: list[Union] = []
        for code, district in DISTRICTS:
            d = self._child(rng, root, f"{district}总工会", enr.UnionKind.COUNTY, code)
            for t in range(towns_per_district):
                towns.append(
                    self._child(rng, d, f"{district}第{t + 1}街道总工会", enr.UnionKind.TOWNSHIP, code)
                )
        for b in range(base_count):
            town = towns[b % len(towns)]
            employer = EMPLOYERS[b % len(EMPLOYERS)]
            self.base_unions.append(
                self._child(rng, town, f"{employer}第{b + 1}工会", enr.UnionKind.BASE, town.region)
            )
        # Base unions differ in size: a heavy-tailed weight each.
        self._weights = [rng.lognormvariate(0, 0.8) for _ in self.base_unions]
        self.counts: Counter[str] = Counter()

    def _child(self, rng: random.Random, parent: Union, name: str, kind: enr.UnionKind, region: str) -> Union:
        union_id = _uuid(rng)
        union = Union(
            union_id,
            name,
            kind,
            parent.union_id,
            region,
            (*parent.path, enr.UnionRef(union_id=union_id, name=name)),
        )
        self.unions.append(union)
        return union

    # --- the day's events -------------------------------------------------------------------

    def events(self, *, partners: bool = True) -> Iterator[Event]:
        """Unions first, then every member's events (each subject's in order), then partners'."""
        self.counts = Counter()
        rng = random.Random(f"{self.seed}:day")
        for union in self.unions:
            payload = enr.UnionRegistered(
                union_id=union.union_id,
                name=union.name,
                kind=union.kind,
                parent_id=union.parent_id,
                region=union.region,
                path=list(union.path),
            )
            yield self._event(
                rng, ENROLLMENT_EVENTS, "enrollment", str(union.union_id), 1, payload, DAY_START
            )
        seconds_per_member = 10 * 3600 / max(1, self.members)
        for i in range(self.members):
            at = DAY_START + timedelta(seconds=i * seconds_per_member)
            yield from self._member(rng, i, at)
        if partners:
            yield from self.partner_events(0, self.merchants, 0, self.offers, self.merchants)

    def _event(
        self,
        rng: random.Random,
        topic: str,
        source: str,
        subject: str,
        version: int,
        payload: EventPayload,
        at: datetime,
    ) -> Event:
        self.counts[payload.event_type] += 1
        event_id = _uuid(rng)
        envelope = EventEnvelope(
            event_id=event_id,
            event_type=payload.event_type,
            schema_version=payload.schema_version,
            source=source,
            subject=subject,
            subject_version=version,
            occurred_at=at,
            correlation_id=f"bench-{event_id.hex[:16]}",
            payload=payload.model_dump(mode="json"),
        )
        return Event(topic, subject, envelope, payload)

    def _member(self, rng: random.Random, i: int, at: datetime) -> Iterator[Event]:
        base = rng.choices(self.base_unions, weights=self._weights)[0]
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        kind = rng.choices(list(enr.EmploymentType), weights=(60, 5, 20, 15))[0]
        employer = rng.choice(EMPLOYERS)
        masked = masked_id(rng, base.region)
        if rng.random() < 0.03:  # a rejected applicant (not a member)
            person, app_id = _uuid(rng), _uuid(rng)
            yield self._enrollment(
                rng, person, 1, self._submitted(app_id, person, name, masked, base, employer, kind, at), at
            )
            rejected = enr.ApplicationRejected(
                application_id=app_id,
                person_id=person,
                base_union_id=base.union_id,
                reason="不在本工会覆盖范围",
                decided_by="bench-cadre",
            )
            yield self._enrollment(rng, person, 2, rejected, at)
        member_id, app_id = _uuid(rng), _uuid(rng)
        yield self._enrollment(
            rng, member_id, 1, self._submitted(app_id, member_id, name, masked, base, employer, kind, at), at
        )
        periods = [enr.MembershipPeriod(union_id=base.union_id, started_at=at)]
        snapshot = enr.MemberSnapshot(
            member_id=member_id,
            name=name,
            national_id_masked=masked,
            membership_number=f"M{self.seed % 1000:03d}{i:09d}",
            card_number=f"6217{i:012d}",
            base_union_id=base.union_id,
            status=enr.MembershipStatus.ACTIVE,
            member_since=at.date(),
            employer=employer,
            employment_type=kind,
            periods=periods,
        )
        version = 2
        yield self._enrollment(
            rng,
            member_id,
            version,
            enr.MemberEnrolled(application_id=app_id, decided_by="bench-cadre", member=snapshot),
            at,
        )
        later = at + timedelta(minutes=30)
        if rng.random() < 0.08:  # a transfer to another base union
            to = rng.choice(self.base_unions)
            periods = [
                *periods[:-1],
                periods[-1].model_copy(update={"ended_at": later, "end_reason": enr.PeriodEnd.TRANSFERRED}),
                enr.MembershipPeriod(union_id=to.union_id, started_at=later),
            ]
            from_union = snapshot.base_union_id
            snapshot = snapshot.model_copy(update={"base_union_id": to.union_id, "periods": periods})
            version += 1
            transferred = enr.MemberTransferred(
                from_union_id=from_union, to_union_id=to.union_id, reason="调动", member=snapshot
            )
            yield self._enrollment(rng, member_id, version, transferred, later)
        if rng.random() < 0.02:  # leaves; a quarter come back
            left_at = later + timedelta(minutes=10)
            periods = [
                *periods[:-1],
                periods[-1].model_copy(update={"ended_at": left_at, "end_reason": enr.PeriodEnd.LEFT}),
            ]
            snapshot = snapshot.model_copy(update={"status": enr.MembershipStatus.LEFT, "periods": periods})
            version += 1
            yield self._enrollment(
                rng, member_id, version, enr.MemberLeft(reason="离职", member=snapshot), left_at
            )
            if rng.random() < 0.25:
                back = left_at + timedelta(minutes=20)
                periods = [*periods, enr.MembershipPeriod(union_id=snapshot.base_union_id, started_at=back)]
                snapshot = snapshot.model_copy(
                    update={"status": enr.MembershipStatus.ACTIVE, "periods": periods}
                )
                version += 1
                reinstated = enr.MemberReinstated(
                    application_id=None, left_at=left_at, reinstated_at=back, member=snapshot
                )
                yield self._enrollment(rng, member_id, version, reinstated, back)
        if rng.random() < 0.03:
            yield from self._relief(rng, member_id, snapshot.base_union_id, later)
        if rng.random() < 0.01:
            yield from self._legal(rng, member_id, snapshot.base_union_id, later)
        if rng.random() < 0.05:
            yield from self._competitions(rng, member_id, later)

    @staticmethod
    def _submitted(
        app_id: uuid.UUID,
        person: uuid.UUID,
        name: str,
        masked: str,
        base: Union,
        employer: str,
        kind: enr.EmploymentType,
        at: datetime,
    ) -> enr.ApplicationSubmitted:
        return enr.ApplicationSubmitted(
            application_id=app_id,
            person_id=person,
            name=name,
            national_id_masked=masked,
            base_union_id=base.union_id,
            employer=employer,
            employment_type=kind,
            channel=enr.ApplicationChannel.WECHAT,
            submitted_at=at,
        )

    def _enrollment(
        self, rng: random.Random, subject: uuid.UUID, version: int, payload: EventPayload, at: datetime
    ) -> Event:
        return self._event(rng, ENROLLMENT_EVENTS, "enrollment", str(subject), version, payload, at)

    def _relief(
        self, rng: random.Random, member_id: uuid.UUID, union_id: uuid.UUID, at: datetime
    ) -> Iterator[Event]:
        S = relief.CaseStatus
        case = relief.CaseSnapshot(
            case_id=_uuid(rng),
            member_id=member_id,
            status=S.REPORTED,
            tier=None,
            union_id=union_id,
            aid_year=2026,
            aid_paid_fen=0,
        )
        version = 0

        def emit(payload: EventPayload) -> Event:
            nonlocal version
            version += 1
            return self._event(rng, RELIEF_EVENTS, "relief", str(member_id), version, payload, at)

        channel = rng.choice(list(relief.IntakeChannel))
        yield emit(relief.CaseOpened(case=case, channel=channel, opened_at=at))
        case = case.model_copy(update={"status": S.VERIFICATION_REQUESTED})
        yield emit(
            relief.CaseStepRequested(case=case, step=relief.ApprovalStep.VERIFICATION, requested_at=at)
        )
        if rng.random() < 0.2:
            case = case.model_copy(update={"status": S.DECLINED})
            yield emit(relief.CaseDeclined(case=case, declined_at=at))
            return
        tier = rng.choice(list(relief.Tier))
        case = case.model_copy(update={"status": S.VERIFIED, "tier": tier})
        yield emit(relief.CaseVerified(case=case, tier=tier, verified_at=at))
        case = case.model_copy(update={"status": S.IN_DISCLOSURE})
        yield emit(
            relief.DisclosureStarted(
                case=case,
                disclosure_no=f"GS-{case.case_id.hex[:8]}",
                starts_at=at,
                ends_at=at + timedelta(days=5),
            )
        )
        case = case.model_copy(update={"status": S.IN_REGISTER})
        plan = relief.PlanSummary(
            aid_types=[relief.AidType.CONSOLATION, relief.AidType.MEDICAL], next_review_due=date(2027, 5, 6)
        )
        yield emit(relief.CaseApproved(case=case, tier=tier, plan=plan, approved_at=at))
        for _ in range(rng.randint(1, 3)):
            amount = rng.choice((50_000, 100_000, 200_000))
            case = case.model_copy(update={"aid_paid_fen": case.aid_paid_fen + amount})
            yield emit(
                relief.AidDisbursed(
                    case=case,
                    disbursement_id=_uuid(rng),
                    aid_type=rng.choice(list(relief.AidType)),
                    amount_fen=amount,
                    year=2026,
                    paid_at=at,
                )
            )

    def _legal(
        self, rng: random.Random, member_id: uuid.UUID, union_id: uuid.UUID, at: datetime
    ) -> Iterator[Event]:
        L = legal.Stage
        case = legal.CaseSnapshot(
            case_id=_uuid(rng),
            case_no=f"维权2026-{rng.randrange(10**6):06d}",
            kind=rng.choice(list(legal.DisputeKind)),
            stage=L.INTAKE,
            outcome=None,
            union_id=union_id,
            member_ids=[member_id],
            next_deadline=None,
        )
        version = 0

        def emit(payload: EventPayload) -> Event:
            nonlocal version
            version += 1
            return self._event(rng, LEGAL_EVENTS, "legal", str(member_id), version, payload, at)

        green = case.kind is legal.DisputeKind.WAGE_ARREARS
        priority = legal.Priority.URGENT if green else legal.Priority.NORMAL
        yield emit(
            legal.CaseFiled(case=case, collective=False, priority=priority, green_channel=green, filed_at=at)
        )
        case = case.model_copy(update={"stage": L.CONSULTATION})
        yield emit(legal.IntakeDecided(case=case, disposition=legal.Disposition.ACCEPT, decided_at=at))
        deadline = legal.NextDeadline(
            name=legal.DeadlineName.MEDIATION_WINDOW, due_on=at.date() + timedelta(days=15)
        )
        case = case.model_copy(update={"stage": L.MEDIATION, "next_deadline": deadline})
        yield emit(legal.StageChanged(case=case, from_stage=L.CONSULTATION, changed_at=at))
        if rng.random() < 0.5:
            case = case.model_copy(
                update={"stage": L.CLOSED, "outcome": legal.Outcome.SETTLED, "next_deadline": None}
            )
            yield emit(
                legal.CaseClosed(
                    case=case,
                    outcome=legal.Outcome.SETTLED,
                    recovered_fen=rng.randrange(1, 10**7),
                    closed_at=at,
                )
            )

    def _competition(self, n: int) -> comp.CompetitionRef:
        rng = random.Random(f"{self.seed}:competition:{n}")
        kind = list(comp.CompetitionKind)[n % 3]
        return comp.CompetitionRef(
            competition_id=_uuid(rng),
            name=f"2026年杭州市第{n + 1}届职工技能大赛",
            kind=kind,
            union_id=self.unions[0].union_id,
        )

    def _competitions(self, rng: random.Random, member_id: uuid.UUID, at: datetime) -> Iterator[Event]:
        competition = self._competition(rng.randrange(COMPETITIONS))
        entry = comp.EntryRef(entry_id=_uuid(rng), entry_no=rng.randint(1, 500))
        version = 0

        def emit(payload: EventPayload) -> Event:
            nonlocal version
            version += 1
            return self._event(rng, COMPETITIONS_EVENTS, "competitions", str(member_id), version, payload, at)

        yield emit(
            comp.EntryRegistered(member_id=member_id, competition=competition, entry=entry, registered_at=at)
        )
        rank = rng.randint(1, 200)
        score = Decimal(rng.randrange(500_000, 1_000_000)) / Decimal(10_000)
        yield emit(
            comp.ResultFinalized(
                member_id=member_id,
                competition=competition,
                entry=entry,
                stage_id=_uuid(rng),
                stage_name="决赛",
                rank=rank,
                of_entries=200,
                score=score,
                finalized_at=at,
            )
        )
        if rng.random() < 0.2:
            honour_id = _uuid(rng) if rng.random() < 0.1 else None
            yield emit(
                comp.AwardGranted(
                    member_id=member_id,
                    competition=competition,
                    entry=entry,
                    award_id=_uuid(rng),
                    title="一等奖" if rank < 20 else "优秀奖",
                    rank=rank,
                    honour_id=honour_id,
                    granted_at=at,
                )
            )
            if honour_id is not None:
                yield emit(
                    comp.HonourGranted(
                        member_id=member_id,
                        honour_id=honour_id,
                        kind=comp.HonourKind.MODEL_WORKER,
                        title="杭州市劳动模范",
                        granted_on=at.date(),
                        valid_until=at.date() + timedelta(days=5 * 365 - 2),
                        competition=competition,
                    )
                )

    # --- partners ---------------------------------------------------------------------------

    def partner_events(
        self, merchant_from: int, merchant_to: int, offer_from: int, offer_to: int, merchants: int
    ) -> Iterator[Event]:
        """Merchants [merchant_from, merchant_to) and offers [offer_from, offer_to) of a programme
        of `merchants` merchants (offer o is merchant o % merchants's): each one is a function of
        the seed and its index alone, so later slices extend earlier ones."""
        for m in range(merchant_from, merchant_to):
            rng = random.Random(f"{self.seed}:merchant:{m}")
            partner = PARTNERS[m % len(PARTNERS)]
            region = DISTRICTS[m % len(DISTRICTS)][0]
            listed = prt.MerchantListed(
                merchant_id=f"m{m:06d}",
                partner_id=partner,
                name=f"{rng.choice(EMPLOYERS)}惠民店{m}",
                category=rng.choice(list(prt.OfferCategory)),
                region=region,
                address=f"{m}号",
                listed_at=DAY_START - timedelta(days=30),
            )
            yield self._event(rng, PARTNERS_EVENTS, "partners", f"{partner}/m{m:06d}", 1, listed, DAY_START)
        for o in range(offer_from, offer_to):
            rng = random.Random(f"{self.seed}:offer:{o}")
            m = o % merchants
            partner = PARTNERS[m % len(PARTNERS)]
            offer_id = f"o{o:07d}"
            if rng.random() < 0.7:
                discount = prt.OfferDiscount(
                    kind=prt.DiscountKind.PERCENT, percent=Decimal(rng.choice((5, 10, 12, 15, 20)))
                )
            else:
                discount = prt.OfferDiscount(
                    kind=prt.DiscountKind.AMOUNT, amount_fen=rng.choice((500, 1000, 2000, 5000))
                )
            # Most offers are for one district, some for the whole city.
            region = CITY[0] if rng.random() < 0.2 else DISTRICTS[m % len(DISTRICTS)][0]
            eligibility = rng.choices(list(prt.Eligibility), weights=(85, 10, 5))[0]
            published = prt.OfferPublished(
                offer_key=prt.offer_key(partner, offer_id),
                partner_id=partner,
                merchant_id=f"m{m:06d}",
                offer_id=offer_id,
                version=1,
                title=f"工会会员专享{discount.percent or discount.amount_fen}优惠",
                discount=discount,
                category=rng.choice(list(prt.OfferCategory)),
                region=region,
                valid_from=DAY_START - timedelta(days=30),
                valid_until=DAY_START + timedelta(days=365),
                eligibility=eligibility,
                published_at=DAY_START - timedelta(days=1),
            )
            yield self._event(rng, PARTNERS_EVENTS, "partners", published.offer_key, 1, published, DAY_START)


def member_ids(city: City, limit: int | None = None) -> list[uuid.UUID]:
    """Ids of the city's members (enrolled, not rejected applicants), in the order of the day."""
    found: list[uuid.UUID] = []
    for event in city.events(partners=False):
        if isinstance(event.payload, enr.MemberEnrolled):
            found.append(event.payload.member.member_id)
            if limit is not None and len(found) >= limit:
                break
    return found
