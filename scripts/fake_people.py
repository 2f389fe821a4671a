"""Synthetic but valid applicants for demos, tests and benchmarks (seeded, reproducible)."""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from services.enrollment.domain.national_id import check_char

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志海燕鹏辉"
# Real county-level codes of Hangzhou (330100) districts, so region codes validate.
COUNTIES = ["330102", "330105", "330106", "330108", "330109", "330110", "330111", "330112"]
EMPLOYERS = [
    "杭州某物流有限公司", "浙江某建设集团", "杭州某电子商务公司", "某外卖平台站点", "杭州某纺织厂",
    "某网约车平台", "杭州某医院", "某连锁超市",
]  # fmt: skip


@dataclass(frozen=True)
class Person:
    name: str
    national_id: str
    phone: str
    employer: str
    employment_type: str


def national_id(rng: random.Random, born: date | None = None) -> str:
    born = born or date(1960, 1, 1) + timedelta(days=rng.randrange(0, 365 * 45))
    first17 = f"{rng.choice(COUNTIES)}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + check_char(first17)


def with_bad_checksum(valid: str) -> str:
    wrong = "0" if valid[-1] != "0" else "1"
    return valid[:-1] + wrong


def person(rng: random.Random) -> Person:
    kind = rng.choices(["employee", "migrant", "flexible", "temporary"], weights=[60, 20, 15, 5])[0]
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
    return Person(
        name=name,
        national_id=national_id(rng),
        phone=f"1{rng.choice('3456789')}{rng.randrange(0, 10**9):09d}",
        employer="" if kind == "flexible" and rng.random() < 0.5 else rng.choice(EMPLOYERS),
        employment_type=kind,
    )
