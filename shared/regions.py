"""Administrative division codes (GB/T 2260, 行政区划代码): six digits, province-city-district.

A code names its level by trailing zero pairs: 330000 is Zhejiang, 330100 Hangzhou, 330106 Xihu
district. Unions carry one (a member's region is their base union's), and so do merchants and
offers; "covers" is a prefix test on the codes without their trailing zero pairs.
"""

import re

REGION_PATTERN = r"^[0-9]{6}$"
# First two digits of a province-level code (provinces, municipalities, regions, Taiwan, HK, Macao).
PROVINCE_PREFIXES = frozenset(
    ("11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "  # noqa: SIM905
     "50 51 52 53 54 61 62 63 64 65 71 81 82").split()
)  # fmt: skip


def region_prefix(region: str) -> str:
    """The code without its trailing zero pairs: 440000 -> 44 (province), 440300 -> 4403 (city),
    440305 -> 440305 (district). A member in region R is covered by an offer whose prefix starts R."""
    prefix = region
    while len(prefix) > 2 and prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def region_ancestors(region: str) -> list[str]:
    """The region and the province and city that contain it, as full codes, most local first:
    440305 -> [440305, 440300, 440000]."""
    prefix = region_prefix(region)
    found = [prefix.ljust(6, "0")]
    while len(prefix) > 2:
        prefix = prefix[:-2]
        found.append(prefix.ljust(6, "0"))
    return found


def check_region(region: str) -> str:
    if not re.fullmatch(REGION_PATTERN, region):
        raise ValueError("region must be a 6-digit administrative division code (GB/T 2260)")
    if region[:2] not in PROVINCE_PREFIXES:
        raise ValueError(f"region {region}: {region[:2]} is not a province code")
    return region
