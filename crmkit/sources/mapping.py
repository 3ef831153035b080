"""Column mapping: decide which header feeds which canonical column, then apply it lazily.

`resolve_mapping` picks a mapping (config > named preset > detected preset > automapper) and binds
every spec to the file's real header names; `apply_mapping` turns a raw frame (the file's own
string columns plus `__line`) into canonical string columns. Parsing is left to cleaning.

Column specs (`ColumnSpec`):

* `"Header"` — one header (matched case-insensitively after normalisation);
* `["A", "B"]` — the first non-null of several headers (the absent ones are skipped);
* `{"const": v}` — a constant;
* `{"concat": ["Date", "Time", "Time Zone"], "sep": " "}` — headers joined, nulls skipped;
* `{"header_regex": "^Amount spent \\((?P<currency>[A-Z]{3})\\)$"}` — the first header matching
  the regex; named groups become constants for those canonical columns not otherwise mapped;
* `{"json_object": {"product_quality": "Product quality", …}}` — a JSON object of raw strings;
* `{"flag": ["Ticket type", "Tags"], "pattern": "(?i)complain"}` — "true"/"false" by regex;
* `{"sum": ["Total", "Discount Amount"]}` — exact decimal sum (first header required, the rest
  add 0 when blank), for "gross before discount" when an export only has the net total.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from crmkit.errors import InputFileError, UsageError
from crmkit.schema import SOURCE_TABLES
from crmkit.schema import table as schema_table
from crmkit.sources import automap as am
from crmkit.sources.presets import Preset, get_preset, list_presets
from crmkit.sources.synonyms import clean_header, default_value_maps, header_key

ColumnSpec = str | list[str] | dict
LINE = "__line"
DETECT_MIN = 0.9  # a preset is chosen automatically only when its signature fits this well
# A required column that cleaning derives when absent: column -> the columns it needs.
DERIVABLE = {("order_lines", "line_amount"): ("quantity", "unit_price")}
_MONEY = pl.Decimal(precision=18, scale=2)


@dataclass(frozen=True)
class Mapping:
    """How one file maps onto one canonical table (and its lines, for line-item exports)."""

    table: str
    columns: dict[str, ColumnSpec]
    method: str
    confidence: float
    line_columns: dict[str, ColumnSpec] | None = None
    status_map: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """One answer of `detect`: a table, the preset (if any) and how sure we are."""

    table: str
    preset: str | None
    confidence: float
    reason: str


# ---- binding specs to the file's headers ------------------------------------------------------


class _Headers:
    """The file's headers, looked up by normalised key (first occurrence wins)."""

    def __init__(self, headers: list[str]) -> None:
        self.headers = [h for h in headers if h != LINE]
        self.by_key: dict[str, str] = {}
        for h in self.headers:
            self.by_key.setdefault(header_key(h), h)

    def find(self, name: str) -> str | None:
        return self.by_key.get(header_key(name))


def _bind(spec: ColumnSpec, hdr: _Headers, consts: dict[str, str]) -> ColumnSpec | None:
    """Rewrite a spec onto real header names; None when none of its headers is present."""
    if isinstance(spec, str):
        return hdr.find(spec)
    if isinstance(spec, list):
        found = [h for h in dict.fromkeys(hdr.find(s) for s in spec) if h]
        return None if not found else found[0] if len(found) == 1 else found
    if not isinstance(spec, dict):
        raise UsageError(f"invalid column spec {spec!r}")
    if "const" in spec:
        return {"const": spec["const"]}
    if "concat" in spec:
        found = [h for h in (hdr.find(s) for s in spec["concat"]) if h]
        return {"concat": found, "sep": spec.get("sep", " ")} if found else None
    if "header_regex" in spec:
        for h in hdr.headers:
            m = re.search(spec["header_regex"], clean_header(h))
            if m:
                consts.update({k: v for k, v in m.groupdict().items() if v is not None})
                return h
        return None
    if "json_object" in spec:
        found = {k: hdr.find(v) for k, v in spec["json_object"].items()}
        found = {k: v for k, v in found.items() if v}
        return {"json_object": found} if found else None
    if "flag" in spec:
        found = [h for h in (hdr.find(s) for s in spec["flag"]) if h]
        return {"flag": found, "pattern": spec["pattern"]} if found else None
    if "sum" in spec:
        first = hdr.find(spec["sum"][0])
        rest = [h for h in (hdr.find(s) for s in spec["sum"][1:]) if h]
        return {"sum": [first, *rest]} if first else None
    raise UsageError(f"unknown column spec {spec!r}", hint="see docs/presets.md for spec forms")


def _bind_all(
    specs: dict[str, ColumnSpec], hdr: _Headers, consts: dict[str, str]
) -> tuple[dict[str, ColumnSpec], list[str]]:
    bound: dict[str, ColumnSpec] = {}
    absent: list[str] = []
    for col, spec in specs.items():
        b = _bind(spec, hdr, consts)
        if b is None:
            absent.append(col)
        else:
            bound[col] = b
    return bound, absent


def spec_headers(spec: ColumnSpec) -> list[str]:
    """The headers a bound spec reads."""
    if isinstance(spec, str):
        return [spec]
    if isinstance(spec, list):
        return list(spec)
    for key in ("concat", "flag", "sum"):
        if key in spec:
            return list(spec[key])
    if "json_object" in spec:
        return list(spec["json_object"].values())
    return []


# ---- resolve ----------------------------------------------------------------------------------


def _missing(table: str, columns: dict[str, ColumnSpec]) -> list[str]:
    """Required items (columns or groups such as customer_ref) that `columns` cannot fill."""
    out = []
    for name, members in am.requirements(table):
        if any(m in columns for m in members):
            continue
        needs = DERIVABLE.get((table, name))
        if needs and all(n in columns for n in needs):
            continue
        out.append(name)
    return out


def _missing_error(
    table: str, missing: list[str], headers: list[str], path: str | None, how: str
) -> InputFileError:
    names = [am.GROUP_LABELS.get(m, m) for m in missing]
    seen = ", ".join(repr(h) for h in headers if h != LINE)
    where = f"{path}: " if path else ""
    return InputFileError(
        f"{where}cannot map to {table} ({how}): missing required column(s) "
        f"{', '.join(names)}; headers seen: {seen}",
        reason_code="missing_columns",
        path=path,
        hint="add `columns:` for this source in crmkit.yaml (canonical column: header), "
        "or use --preset NAME (see `crmkit presets`)",
    )


def _ambiguous_error(what: str, path: str | None) -> InputFileError:
    where = f"{path}: " if path else ""
    return InputFileError(
        f"{where}ambiguous mapping: {what}; refusing to guess",
        reason_code="ambiguous_mapping",
        path=path,
        hint="add `columns:` for this source in crmkit.yaml, or use --preset NAME",
    )


def _value_maps(table: str, preset: Preset | None, status_map: dict[str, str] | None) -> tuple:
    maps = default_value_maps(table)
    if preset is not None:
        for col, m in preset.value_maps.items():
            maps[col] = {**maps.get(col, {}), **m}
        if preset.status_map:
            maps["status"] = {**maps.get("status", {}), **preset.status_map}
    if status_map:
        folded = {str(k).strip().lower(): str(v) for k, v in status_map.items()}
        maps["status"] = {**maps.get("status", {}), **folded}
    status = maps.pop("status", {})
    return status, maps


def _from_specs(
    headers: list[str],
    table: str,
    specs: dict[str, ColumnSpec],
    *,
    preset: Preset | None,
    method: str,
    confidence: float,
    path: str | None,
    sample: pl.DataFrame | None,
    autofill: bool,
    status_map: dict[str, str] | None,
    constants: dict[str, Any] | None,
    configured: frozenset[str] = frozenset(),
) -> Mapping:
    """Bind specs to the file's headers, check required items and gather the notes."""
    hdr = _Headers(headers)
    consts: dict[str, str] = {}
    bound, absent = _bind_all(specs, hdr, consts)
    for col, value in consts.items():
        if col in SOURCE_TABLES[table].names and col not in bound:
            bound[col] = {"const": value}
    for col, value in (constants or {}).items():
        bound[col] = {"const": value}
    notes: list[str] = []
    if autofill:
        missing = _missing(table, bound)
        if missing:
            used = {h for s in bound.values() for h in spec_headers(s)}
            wanted = {c for m in missing for c in am.GROUPS.get(m, (m,))}
            res = am.automap(hdr.headers, table, sample=sample, exclude=used, only=wanted)
            if res.ambiguous:
                raise _ambiguous_error(_describe_ambiguous(res.ambiguous), path)
            for col, h in res.columns.items():
                if res.scores[col] >= am.MIN_SCORE:
                    bound[col] = h
                    notes.append(f"{h} → {col} (auto-filled, score {res.scores[col]:.2f})")
    missing = _missing(table, bound)
    if missing:
        raise _missing_error(table, missing, headers, path, method)
    line_bound: dict[str, ColumnSpec] | None = None
    options = dict(preset.options) if preset else {}
    if "explode_lines" in options:
        packed = hdr.find(options["explode_lines"]["header"])
        if packed:
            options["explode_lines"] = {**options["explode_lines"], "header": packed}
        else:
            options.pop("explode_lines")
    if preset is not None and preset.line_columns is not None:
        line_bound, _ = _bind_all(preset.line_columns, hdr, consts)
        if not line_bound and "explode_lines" not in options:
            line_bound = None  # no line columns in this file: plain one-row-per-order
    if table == "customers" and "source_record_id" not in bound:
        notes.append("no source_record_id: cleaning derives it from a hash of the row")
    for header, message in (options.pop("warn_if_missing", None) or {}).items():
        if hdr.find(header) is None:
            notes.append(f"warning: {message}")
    for col, spec in {**bound, **(line_bound or {})}.items():
        if isinstance(spec, dict) and "const" in spec:
            notes.append(f"{col} = {spec['const']!r} (constant)")
        else:
            notes.append(f"{' + '.join(spec_headers(spec))} → {col}")
    mine = [c for c in absent if c in configured]
    if mine:
        notes.append("warning: configured column(s) not in this file: " + ", ".join(mine))
    if len(mine) < len(absent):
        notes.append("not in this file: " + ", ".join(c for c in absent if c not in configured))
    used = {h for s in [*bound.values(), *(line_bound or {}).values()] for h in spec_headers(s)}
    if "explode_lines" in options:
        used.add(hdr.find(options["explode_lines"]["header"]) or "")
    ignored = [h for h in hdr.headers if h not in used]
    if ignored:
        notes.append("ignored: " + ", ".join(sorted(ignored)))
    if consts:
        options["constants"] = {**options.get("constants", {}), **consts}
    status, value_maps = _value_maps(table, preset, status_map)
    if value_maps:
        options["value_maps"] = value_maps
    if preset is not None:
        notes = [*preset.notes, *notes]
    return Mapping(
        table=table,
        columns=bound,
        method=method,
        confidence=round(confidence, 4),
        line_columns=line_bound,
        status_map=status,
        options=options,
        notes=tuple(notes),
    )


def _describe_ambiguous(amb: dict[str, tuple[str, ...]]) -> str:
    return "; ".join(f"{col} could be {' or '.join(map(repr, c))}" for col, c in amb.items())


def resolve_mapping(
    headers: list[str],
    *,
    table: str | None = None,
    preset: str | None = None,
    columns: dict[str, ColumnSpec] | None = None,
    sample: pl.DataFrame | None = None,
    path: str | None = None,
    status_map: dict[str, str] | None = None,
    constants: dict[str, Any] | None = None,
) -> Mapping:
    """Decide the mapping of a file: config `columns` > named `preset` > detected preset > auto.

    `status_map` and `constants` (a source's config keys) override the preset and defaults.
    """
    common = {"path": path, "sample": sample, "status_map": status_map, "constants": constants}
    if columns:
        base = get_preset(preset) if preset else None
        tbl = table or (base.table if base else None)
        if tbl is None:
            raise UsageError("a source with `columns:` needs `table:` (which table it feeds)")
        schema_table(tbl)  # a helpful UsageError for an unknown table
        specs = {**(base.columns if base and base.table == tbl else {}), **columns}
        return _from_specs(
            headers, tbl, specs, preset=base if base and base.table == tbl else None,
            method="config", confidence=1.0, autofill=True, configured=frozenset(columns),
            **common,
        )  # fmt: skip
    if preset:
        p = get_preset(preset)
        if table is not None and table != p.table:
            raise UsageError(f"preset {p.name} maps to {p.table}, not {table}")
        return _from_specs(
            headers, p.table, p.columns, preset=p, method=f"preset:{p.name}",
            confidence=p.match(headers), autofill=False, **common,
        )  # fmt: skip
    first_error: InputFileError | None = None
    for p, score in _ranked_presets(headers):
        if score < DETECT_MIN:
            break
        if table is not None and table != p.table:
            continue
        try:
            return _from_specs(
                headers, p.table, p.columns, preset=p, method=f"preset:{p.name}",
                confidence=score, autofill=False, **common,
            )  # fmt: skip
        except InputFileError as exc:  # signature fits but a required column is absent
            first_error = first_error or exc
    try:
        return _auto(headers, table, sample, path, status_map, constants)
    except InputFileError:
        if first_error is not None:
            raise first_error from None  # the recognised preset's message is the clearer one
        raise


def _auto(
    headers: list[str],
    table: str | None,
    sample: pl.DataFrame | None,
    path: str | None,
    status_map: dict[str, str] | None,
    constants: dict[str, Any] | None,
) -> Mapping:
    """The automapper's mapping, or a missing/ambiguous error naming what it saw."""
    hdr = _Headers(headers)
    if table is not None:
        schema_table(table)
        res = am.automap(hdr.headers, table, sample=sample)
    else:
        ranked = am.rank_tables(hdr.headers, sample)
        res = ranked[0]
        if len(ranked) > 1 and not res.missing and am.tables_tie(res, ranked[1]):
            raise _ambiguous_error(
                f"the headers fit {res.table} and {ranked[1].table} equally well", path
            )
    if res.ambiguous:
        raise _ambiguous_error(_describe_ambiguous(res.ambiguous), path)
    if res.missing:
        raise _missing_error(res.table, list(res.missing), headers, path, "automatic matching")
    columns: dict[str, ColumnSpec] = {c: h for c, h in res.columns.items()}
    for col, value in (constants or {}).items():
        columns[col] = {"const": value}
    status, value_maps = _value_maps(res.table, None, status_map)
    notes = [f"{h} → {c} (score {res.scores[c]:.2f})" for c, h in res.columns.items()]
    notes += list(res.notes)
    ignored = [h for h in hdr.headers if h not in set(res.columns.values())]
    if ignored:
        notes.append("ignored: " + ", ".join(sorted(ignored)))
    options: dict[str, Any] = {"value_maps": value_maps} if value_maps else {}
    return Mapping(
        table=res.table,
        columns=columns,
        method="auto",
        confidence=round(res.confidence, 4),
        status_map=status,
        options=options,
        notes=tuple(notes),
    )


def _ranked_presets(headers: list[str]) -> list[tuple[Preset, float]]:
    hdr = _Headers(headers)
    scored = []
    for p in list_presets():
        score = p.match(hdr.headers)
        if score > 0:
            specs = {**p.columns, **(p.line_columns or {})}
            present = sum(_bind(s, hdr, {}) is not None for s in specs.values())
            scored.append((p, score, present / max(len(specs), 1)))
    scored.sort(key=lambda t: (-t[1], -t[2], t[0].name))
    return [(p, s) for p, s, _ in scored]


def detect(headers: list[str], sample: pl.DataFrame | None = None) -> list[Candidate]:
    """Every plausible reading of a file, best first: presets by signature, then tables by
    automatic header matching (used by `crmkit init --from DIR`)."""
    hdr = _Headers(headers)
    out: list[Candidate] = []
    for p, score in _ranked_presets(hdr.headers):
        reason = "signature " + " | ".join(s.describe() for s in p.signatures)
        out.append(Candidate(p.table, p.name, round(score, 4), f"{p.title}: {reason}"))
    for res in am.rank_tables(hdr.headers, sample):
        if not res.columns:
            continue
        conf = 0.0 if res.ambiguous else res.confidence if not res.missing else res.fit * 0.5
        pairs = ", ".join(f"{h}→{c}" for c, h in res.columns.items())
        why = f"headers {pairs}"
        if res.missing:
            why += "; missing " + ", ".join(res.missing)
        if res.ambiguous:
            why += "; ambiguous " + _describe_ambiguous(res.ambiguous)
        out.append(Candidate(res.table, None, round(conf, 4), why))
    # Stable sort: presets before automatic readings at equal confidence, and automatic
    # readings keep the automapper's table ranking (coverage breaks ties).
    out.sort(key=lambda c: (-c.confidence, c.preset is None))
    return out


# ---- apply ------------------------------------------------------------------------------------


def _money(col: str) -> pl.Expr:
    return pl.col(col).str.replace_all(r"[^0-9.\-]", "").cast(_MONEY, strict=False)


def spec_expr(spec: ColumnSpec) -> pl.Expr:
    """The polars expression of a bound spec (always a String column)."""
    if isinstance(spec, str):
        return pl.col(spec)
    if isinstance(spec, list):
        return pl.coalesce([pl.col(h) for h in spec])
    if "const" in spec:
        value = spec["const"]
        return pl.lit(None if value is None else str(value), dtype=pl.String)
    if "concat" in spec:
        cols = [pl.col(h) for h in spec["concat"]]
        joined = pl.concat_str(cols, separator=spec.get("sep", " "), ignore_nulls=True)
        return pl.when(pl.any_horizontal(c.is_not_null() for c in cols)).then(joined)
    if "json_object" in spec:
        fields = spec["json_object"]
        struct = pl.struct(**{k: pl.col(h) for k, h in fields.items()}).struct.json_encode()
        present = pl.any_horizontal(pl.col(h).is_not_null() for h in fields.values())
        return pl.when(present).then(struct)
    if "flag" in spec:
        cols = [pl.col(h) for h in spec["flag"]]
        hit = pl.any_horizontal(c.str.contains(spec["pattern"]).fill_null(False) for c in cols)
        present = pl.any_horizontal(c.is_not_null() for c in cols)
        return pl.when(present).then(pl.when(hit).then(pl.lit("true")).otherwise(pl.lit("false")))
    if "sum" in spec:
        first, *rest = spec["sum"]
        total = _money(first)
        for h in rest:
            total = total + _money(h).fill_null(0)
        return total.cast(pl.String)
    raise UsageError(f"unknown column spec {spec!r}")


def _blank_to_null(raw: pl.LazyFrame, names: list[str], null_values: Any) -> pl.LazyFrame:
    """Empty or whitespace cells (and the preset's null markers such as `-`, `--`) become null."""
    markers = [] if isinstance(null_values, dict) else [str(v) for v in null_values or []]
    exprs = []
    for h in names:
        stripped = pl.col(h).str.strip_chars()
        is_null = (stripped == "") | stripped.is_in(markers)
        exprs.append(pl.when(is_null).then(None).otherwise(pl.col(h)).alias(h))
    return raw.with_columns(exprs)


def _apply_value_maps(frame: pl.LazyFrame, mapping: Mapping, cols: list[str]) -> pl.LazyFrame:
    maps = dict(mapping.options.get("value_maps") or {})
    if mapping.status_map:
        maps["status"] = mapping.status_map
    exprs = []
    for col, vmap in maps.items():
        if col not in cols or not vmap:
            continue
        folded = pl.col(col).str.strip_chars().str.to_lowercase()
        keys = list(vmap)
        exprs.append(
            pl.when(folded.is_in(keys))
            .then(folded.replace_strict(keys, list(vmap.values()), default=None))
            .otherwise(pl.col(col))
            .alias(col)
        )
    return frame.with_columns(exprs) if exprs else frame


def _null_cells(raw: pl.LazyFrame, mapping: Mapping) -> tuple[pl.LazyFrame, list[str]]:
    names = [n for n in raw.collect_schema().names() if n != LINE]
    return _blank_to_null(raw, names, mapping.options.get("null_values")), names


def _drop_split(
    raw: pl.LazyFrame, names: list[str], mapping: Mapping
) -> tuple[pl.LazyFrame, pl.LazyFrame | None]:
    patterns = mapping.options.get("drop_rows") or []
    if not patterns or not names:
        return raw, None
    first = names[0]
    hit = pl.col(first).str.contains("|".join(f"(?:{p})" for p in patterns)).fill_null(False)
    dropped = raw.filter(hit).select(
        pl.col(LINE), pl.format("summary row '{}'", pl.col(first)).alias("reason")
    )
    return raw.filter(~hit), dropped


def _canonical_nulls(frame: pl.LazyFrame, mapping: Mapping, cols: list[str]) -> pl.LazyFrame:
    per_col = mapping.options.get("null_values")
    if not isinstance(per_col, dict):
        return frame
    exprs = [
        pl.when(pl.col(c).str.strip_chars().is_in([str(v) for v in vals]))
        .then(None)
        .otherwise(pl.col(c))
        .alias(c)
        for c, vals in per_col.items()
        if c in cols
    ]
    return frame.with_columns(exprs) if exprs else frame


def apply_mapping(raw: pl.LazyFrame, mapping: Mapping) -> dict[str, pl.LazyFrame]:
    """Map a raw frame to canonical string columns (+ `__line`), lazily.

    Line-item exports give `orders` (one row per order, first non-null value per column in file
    order, `__line` = first line, `__lines` = all lines) and `order_lines`. Summary/footer rows
    matching `options["drop_rows"]` come back in `__dropped` (`__line`, `reason`).
    """
    frame, names = _null_cells(raw, mapping)
    frame, dropped = _drop_split(frame, names, mapping)
    if mapping.line_columns is not None or mapping.table == "order_lines":
        frame = frame.sort(LINE)  # line numbers and "first value" follow file order
    out: dict[str, pl.LazyFrame] = {}
    if mapping.line_columns is None:
        cols = list(mapping.columns)
        result = frame.select(
            *[spec_expr(s).cast(pl.String).alias(c) for c, s in mapping.columns.items()],
            pl.col(LINE),
        )
        if mapping.table == "order_lines" and "line_no" not in cols and "order_id" in cols:
            result = result.with_columns(_line_no(pl.col("order_id")))
            cols.append("line_no")
        result = _canonical_nulls(_apply_value_maps(result, mapping, cols), mapping, cols)
        out[mapping.table] = result
    else:
        out.update(_split_lines(frame, mapping))
    if dropped is not None:
        out["__dropped"] = dropped
    return out


def _line_no(key: pl.Expr) -> pl.Expr:
    return (pl.int_range(pl.len()).over(key) + 1).cast(pl.String).alias("line_no")


def _split_lines(frame: pl.LazyFrame, mapping: Mapping) -> dict[str, pl.LazyFrame]:
    order_cols = list(mapping.columns)
    line_specs = dict(mapping.line_columns or {})
    line_specs.pop("order_id", None)
    rows = frame.select(
        *[spec_expr(s).cast(pl.String).alias(c) for c, s in mapping.columns.items()],
        *[spec_expr(s).cast(pl.String).alias(f"__l_{c}") for c, s in line_specs.items()],
        *([pl.col(_explode_header(mapping))] if "explode_lines" in mapping.options else []),
        pl.col(LINE),
    )
    # Rows without an order id stay alone (each its own group) so cleaning can reject them.
    key = (
        pl.when(pl.col("order_id").is_null())
        .then(pl.format("\x00{}", pl.col(LINE)))
        .otherwise(pl.col("order_id"))
        .alias("__key")
    )
    rows = rows.with_columns(key)
    sums = set(mapping.options.get("sum_columns") or [])
    aggs = []
    for c in order_cols:
        if c == "order_id":
            aggs.append(pl.col(c).first())
        elif c in sums:
            total = pl.col(c).str.replace_all(r"[^0-9.\-]", "").cast(_MONEY, strict=False)
            aggs.append(
                pl.when(total.is_not_null().any()).then(total.sum().cast(pl.String)).alias(c)
            )
        else:
            aggs.append(pl.col(c).drop_nulls().first())
    orders = (
        rows.group_by("__key", maintain_order=True)
        .agg(*aggs, pl.col(LINE).min(), pl.col(LINE).alias("__lines"))
        .drop("__key")
    )
    orders = _canonical_nulls(_apply_value_maps(orders, mapping, order_cols), mapping, order_cols)
    if "explode_lines" in mapping.options:
        lines = _exploded(rows, mapping)
    else:
        lines = rows.select(
            "order_id",
            _line_no(pl.col("__key")),
            *[pl.col(f"__l_{c}").alias(c) for c in line_specs],
            pl.col(LINE),
        )
    return {"orders": orders, "order_lines": lines}


def _explode_header(mapping: Mapping) -> str:
    return mapping.options["explode_lines"]["header"]


def _exploded(rows: pl.LazyFrame, mapping: Mapping) -> pl.LazyFrame:
    """Lines packed in one cell (`2× Name A, 1× Name B`) → one row per item."""
    spec = mapping.options["explode_lines"]
    header = spec["header"]
    split_before = spec.get("split_before", r", (\d+\s*[×x] )")
    pattern = spec.get("item_pattern", r"^\s*(?P<quantity>\d+)\s*[×x]\s*(?P<product_name>.+?)\s*$")
    names = re.compile(pattern).groupindex
    items = (
        rows.with_columns(
            pl.col(header).str.replace_all(split_before, "\x1f$1").str.split("\x1f").alias("__item")
        )
        .explode("__item")
        .filter(pl.col("__item").is_not_null() & (pl.col("__item").str.strip_chars() != ""))
        .with_columns(pl.col("__item").str.extract_groups(pattern).alias("__parts"))
    )
    fields = [pl.col("__parts").struct.field(n).alias(n) for n in names]
    if "product_name" in names:
        fields = [
            f if n != "product_name" else pl.coalesce(f, pl.col("__item").str.strip_chars())
            for f, n in zip(fields, names, strict=True)
        ]
        fields = [f.alias(n) for f, n in zip(fields, names, strict=True)]
    return items.select("order_id", _line_no(pl.col("__key")), *fields, pl.col(LINE))
