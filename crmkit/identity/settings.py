"""Identity settings: defaults for the `identity:` config section, merged with the user's values.

Every threshold of the resolver lives here so `docs/identity.md` can document one table and a
workspace can override any key (`identity.thresholds.match: 0.97`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from crmkit.config import deep_merge
from crmkit.errors import ConfigError

DEFAULTS: dict[str, Any] = {
    # Full re-resolution (keys still carried over by overlap) instead of matching new records only.
    "incremental": True,
    "phone_region": None,  # default region for raw phone numbers without a country code
    "email": {
        "domain_aliases": {"googlemail.com": "gmail.com"},
        "ignore_dots": ["gmail.com"],
        "plus_tags": [
            "gmail.com",
            "outlook.com",
            "hotmail.com",
            "live.com",
            "icloud.com",
            "me.com",
            "fastmail.com",
            "protonmail.com",
        ],
    },
    "phone": {"revalidate": False},
    "blocklist": {
        "emails": ["test@test.com", "none@none.com", "a@a.com", "abc@abc.com", "no@email.com"],
        "email_locals": [
            "test",
            "none",
            "noreply",
            "no-reply",
            "no_reply",
            "donotreply",
            "null",
            "na",
            "n/a",
            "nomail",
            "noemail",
            "no.email",
            "unknown",
            "xxx",
            "example",
            "sample",
            "guest",
        ],
        "email_domains": [
            "test.com",
            "mailinator.com",
            "none.com",
            "noemail.com",
            "email.com",
        ],
        "phones": ["+8613800000000", "+8613900000000", "+8612345678901"],
        # E.164 prefixes of service numbers that many customers share (CN 400/800 hotlines).
        "phone_prefixes": ["+86400", "+86800", "+1800", "+1888", "+1877", "+1866", "+44800"],
        "min_repeated_digits": 6,  # a run of this many identical digits marks a placeholder
        "birth_dates": ["1900-01-01", "1901-01-01", "1970-01-01", "2000-01-01"],
        "names": [
            "test",
            "customer",
            "guest",
            "unknown",
            "none",
            "n a",
            "na",
            "null",
            "xxx",
            "客户",
            "顾客",
            "测试",
            "无",
            "先生",
            "女士",
            "匿名",
        ],
    },
    "guards": {
        # A contact value seen with more distinct names than this is "shared" and never proof alone.
        "max_names_per_value": 3,
        "max_records_per_value": 200,
    },
    "blocking": {
        "keys": [
            "email",
            "phone",
            "name_postcode",
            "name_city",
            "name_birth",
            "pinyin",
            "surname_postcode_given",
            "given_birth",
            "surname_birth",
            "birth_postcode",
            "address_postcode",
            "given_postcode",
            "surname_address",
            "given_address",
            "phonetic_birth",
            "phonetic_postcode",
            "birth_city",
            "street_city",
            "number_street",
        ],
        "max_block_size": 60,  # blocks larger than this are skipped (reported)
        "max_contact_block_size": 400,
    },
    "thresholds": {
        "match": 0.95,  # match probability for a link between two groups (mutual best only)
        "strict": 0.999,  # links at or above this hold a cluster together
        "name_compatible": 0.88,  # Jaro-Winkler on romanised names for the deterministic rules
        "name_conflict": 0.70,  # below this two present names veto a link without corroboration
        "max_cluster_records": 100,
        # weak links join 3+ groups only if this share of their pairs link directly (1: all)
        "min_density": 1.0,
        # a record with only a name (no usable contact, birth date or address) joins the only
        # customer with that name
        "unique_name_attach": True,  # a bigger cluster is re-split, weakest links first
    },
    "model": {
        "em_iterations": 25,
        "u_sample_pairs": 100_000,
        "seed": 42,
        "max_weight": 16.0,
        "prior": None,  # fixed prior match probability among candidate pairs (None: EM estimate)
    },
    "must_link": [],
    "cannot_link": [],
    "source_priority": [],
    "survivorship": {},
    "report": {"least_certain": 20},
}


def identity_settings(section: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge the workspace's `identity` section over the defaults and check the shapes."""
    user = dict(section or {})
    unknown = sorted(set(user) - set(DEFAULTS))
    if unknown:
        raise ConfigError(
            f"identity: unknown setting(s) {', '.join(unknown)}",
            hint=f"known settings: {', '.join(DEFAULTS)}",
        )
    merged = deep_merge(copy.deepcopy(DEFAULTS), user)
    for key in ("must_link", "cannot_link"):
        pairs = merged[key]
        if not isinstance(pairs, list) or any(
            not isinstance(p, (list, tuple)) or len(p) != 2 or not all(":" in str(x) for x in p)
            for p in pairs
        ):
            raise ConfigError(
                f"identity.{key} must be a list of pairs of 'source:source_record_id'",
                hint=f'e.g. {key}: [["crm:1001", "shop:#1023"]]',
            )
    t = merged["thresholds"]
    if not 0 < t["match"] <= t["strict"] < 1:
        raise ConfigError("identity.thresholds: need 0 < match <= strict < 1")
    return merged
