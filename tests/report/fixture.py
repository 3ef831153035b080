"""A small workspace for report tests: parquet tables written straight under warehouse/.

Eight customers with orders from 2025-01 to 2025-06 (as-of 2025-06-30, period Q2 vs Q1), their
order lines (teas, cups, pots), a golden customers table with contact details (one hostile name,
one formula-like name), surveys with attribute ratings and comments, tickets with subjects, two
recorded segment runs, CLV predictions, rejects and a manifest.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from crmkit import schema
from crmkit.workspace import table_schema

UTC = dt.UTC
HOSTILE = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil.example","x")'
EMAILS = [f"person{i}@example.com" for i in range(8)]
PHONES = [f"+86138001380{i:02d}" for i in range(8)]
NAMES = [HOSTILE, "Mary Smith", "张伟", FORMULA, "Li Na", "John Doe", "王芳", "Ann Lee"]
KEYS = [f"c{i}" for i in range(8)]


def _frame(name: str, rows: list[dict[str, Any]], extra: dict[str, pl.DataType] | None = None):
    sch = dict(table_schema(name) or {})
    sch.update(extra or {})
    return pl.DataFrame({c: [r.get(c) for r in rows] for c in sch}, schema=sch)


def _ts(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=UTC)


def orders() -> pl.DataFrame:
    rows = []
    n = 0
    for i, key in enumerate(KEYS):
        first = dt.date(2025, 1 + i % 5, 3 + i)
        for k in range(1 + (i * 3) % 7):
            day = first + dt.timedelta(days=23 * k)
            if day > dt.date(2025, 6, 30):
                break
            n += 1
            amount = Decimal(20 + 13 * i + 7 * k).quantize(Decimal("0.01"))
            rows.append(
                {
                    "order_id": f"o{n}",
                    "customer_key": key,
                    "customer_id": key,
                    "ordered_at": _ts(day),
                    "status": "completed",
                    "currency": "USD",
                    "gross_amount": amount,
                    "net_amount": amount,
                    "channel": "online" if k % 2 else "pos",
                    "source": "shop",
                }
            )
    rows.append(  # a walk-in without a customer, and a reference that was not resolved
        {
            "order_id": "w1",
            "ordered_at": _ts(dt.date(2025, 6, 30)),
            "status": "completed",
            "gross_amount": Decimal("9.90"),
            "net_amount": Decimal("9.90"),
            "source": "shop",
        }
    )
    rows.append(
        {
            "order_id": "u1",
            "customer_email": "ghost@example.com",
            "ordered_at": _ts(dt.date(2025, 6, 1)),
            "status": "completed",
            "gross_amount": Decimal("15.00"),
            "net_amount": Decimal("15.00"),
            "source": "shop",
        }
    )
    return _frame("orders", rows)


PRODUCTS = {
    "TEA-GREEN": "TEA",
    "TEA-BLACK": "TEA",
    "CUP-WHITE": "CUP",
    "CUP-BLUE": "CUP",
    "POT-IRON": "POT",
}


def order_lines() -> pl.DataFrame:
    """Lines of every order: a tea each, cups and pots by a fixed pattern, one unknown item."""
    rows = []
    for n, order_id in enumerate(orders()["order_id"].to_list(), start=1):
        items = ["TEA-GREEN" if n % 2 else "TEA-BLACK"]
        if n % 4 == 1:
            items.append("CUP-BLUE")
        if n % 3 == 0:
            items.append("CUP-WHITE")
        if n % 5 == 0:
            items.append("POT-IRON")
        if n == 7:
            items.append(None)  # a line without a product
        for line_no, product in enumerate(items, start=1):
            rows.append(
                {
                    "order_id": order_id,
                    "line_no": line_no,
                    "product_id": product,
                    "category": PRODUCTS.get(product or ""),
                    "quantity": 1.0,
                    "line_amount": Decimal("10.00"),
                    "source": "shop",
                }
            )
    return _frame("order_lines", rows)


def customers() -> pl.DataFrame:
    rows = [
        {
            "customer_key": key,
            "source_record_id": key,
            "full_name": NAMES[i],
            "email": EMAILS[i],
            "phone": PHONES[i],
            "signup_at": _ts(dt.date(2024, 12, 1 + i)),
            "acquisition_channel": "organic",
            "loyalty_member": i % 2 == 0,
        }
        for i, key in enumerate(KEYS)
    ]
    return _frame("customers", rows)


COMMENTS = {
    "detractor": [
        "Delivery was slow and the price too high",
        "物流太慢，价格太贵",
        "Slow delivery, cold tea",
    ],
    "passive": ["Tea was fine", "还可以"],
    "promoter": ["Great tea and friendly staff", "很好喝，推荐", "Friendly staff, great shop"],
}


def _comment(i: int) -> str | None:
    if i == 0:
        return f"call me on {PHONES[0]} or {EMAILS[1]}, delivery slow"
    nps = i % 11
    group = "promoter" if nps >= 9 else "passive" if nps >= 7 else "detractor"
    texts = COMMENTS[group]
    return None if i % 7 == 3 else texts[i % len(texts)]


def _ratings(i: int) -> str | None:
    """Attribute ratings 1-5 loosely following the NPS; one missing code, one blank response."""
    if i == 5:
        return None
    nps = i % 11
    quality = min(5, 1 + nps // 2 + (i % 2))
    delivery = 1 + (nps + (i * 3) % 4) // 3
    price = -99 if i == 8 else 1 + (i * 7) % 5
    return json.dumps({"delivery": str(min(delivery, 5)), "price": price, "quality": quality})


def surveys() -> pl.DataFrame:
    rows = [
        {
            "response_id": f"s{i}",
            "customer_key": KEYS[i % 8],
            "customer_id": KEYS[i % 8],
            "responded_at": _ts(dt.date(2025, 1 + i % 6, 10)),
            "nps": float(i % 11),
            "csat": float(1 + i % 5),
            "comment": _comment(i),
            "ratings": _ratings(i),
        }
        for i in range(24)
    ]
    return _frame("survey_responses", rows, {"customer_key": pl.String()})


TICKET_SUBJECTS = ["Late delivery (order #1234)", "退款申请", None, "Broken cup in delivery"]


def tickets() -> pl.DataFrame:
    rows = [
        {
            "ticket_id": f"t{i}",
            "customer_key": KEYS[i % 8],
            "customer_id": KEYS[i % 8],
            "created_at": _ts(dt.date(2025, 1 + i % 6, 12)),
            "status": "solved",
            "subject": TICKET_SUBJECTS[i % 4],
        }
        for i in range(12)
    ]
    return _frame("tickets", rows)


def segment_history() -> pl.DataFrame:
    rfm = ["champions", "loyal", "new", "at_risk", "hibernating", "promising", "loyal", "new"]
    tiers = ["gold", "silver", "regular", "regular", "silver", "regular", "gold", "regular"]
    rows = []
    for day, shift in ((dt.date(2025, 3, 31), 1), (dt.date(2025, 6, 30), 0)):
        for i, key in enumerate(KEYS):
            rows.append(("rfm", rfm[(i + shift) % 8], key, day))
            rows.append(("tiers", tiers[(i + shift) % 8], key, day))
    return pl.DataFrame(
        {
            "customer_key": [r[2] for r in rows],
            "method": [r[0] for r in rows],
            "segment": [r[1] for r in rows],
            "as_of": [r[3] for r in rows],
            "run_id": ["seg-1" if r[3].month == 3 else "seg-2" for r in rows],
        }
    )


def clv_predictions() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_key": KEYS,
            "p_alive": [0.9 - 0.1 * i for i in range(8)],
            "expected_purchases": [3.0 - 0.3 * i for i in range(8)],
            "expected_spend": [50.0 + i for i in range(8)],
            "clv": [400.0 - 40 * i for i in range(8)],
            "model": ["bgnbd"] * 8,
            "calibration_end": [dt.date(2025, 6, 30)] * 8,
            "horizon_days": [365.0] * 8,
            "monthly_discount_rate": [0.01] * 8,
            "margin": [0.3] * 8,
        }
    )


def rejects() -> pl.DataFrame:
    rows = [
        {
            "source": "shop",
            "source_file": "a.csv",
            "source_line": 3,
            "table": "orders",
            "reason_code": "bad_date",
            "reason": "bad date",
            "raw": "{}",
        },
        {
            "source": "shop",
            "source_file": "a.csv",
            "source_line": 4,
            "table": "orders",
            "reason_code": "bad_date",
            "reason": "bad date",
            "raw": "{}",
        },
        {
            "source": "crm",
            "source_file": "b.csv",
            "source_line": 9,
            "table": "customers",
            "reason_code": "=1+2",
            "reason": "x",
            "raw": "{}",
        },
    ]
    return pl.DataFrame(rows, schema=dict(schema.REJECTS_SCHEMA), strict=False)


def manifest() -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "path": "a.csv",
                "sha256": "0" * 64,
                "bytes": 100,
                "source": "shop",
                "table": "orders",
                "rows_read": 10,
                "rows_accepted": 8,
                "rows_rejected": 2,
                "rows_duplicate": 0,
                "ingested_at": _ts(dt.date(2025, 7, 1)),
                "run_id": "r1",
            }
        ],
        schema=dict(schema.MANIFEST_SCHEMA),
        strict=False,
    )


CONFIG = """\
currency: USD
targets:
  nps: {min: 30}
  churn_rate: {max: 0.5}
analysis:
  drivers_min_n: 15
report:
  names: {names}
"""


def make_workspace(root: Path, *, names: str = "full", skip: tuple[str, ...] = ()) -> Path:
    """Write the fixture workspace under `root` and return its path."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "crmkit.yaml").write_text(CONFIG.replace("{names}", names), encoding="utf-8")
    wh = root / "warehouse"
    wh.mkdir(exist_ok=True)
    tables = {
        "orders": orders,
        "order_lines": order_lines,
        "customers": customers,
        "survey_responses": surveys,
        "tickets": tickets,
        "segment_history": segment_history,
        "clv_predictions": clv_predictions,
        "rejects": rejects,
        "manifest": manifest,
    }
    for name, make in tables.items():
        if name not in skip:
            make().write_parquet(wh / f"{name}.parquet")
    return root
