"""Writing DataFrames as the CSV files and configs the binary reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd

NA_TOKEN = "NA"
_ALT_NA_TOKEN = "__lmmbayes_NA__"


def is_categorical(s: pd.Series) -> bool:
    """Categorical, object, string and boolean columns become factors."""
    return (
        isinstance(s.dtype, pd.CategoricalDtype)
        or s.dtype == object
        or pd.api.types.is_string_dtype(s.dtype)
        or pd.api.types.is_bool_dtype(s.dtype)
    )


def factor_columns(data: pd.DataFrame, factors: Optional[Sequence[str]]) -> List[str]:
    """The columns written as factors: those named in factors, then every
    categorical, object, string or boolean column, in data order."""
    out = [str(f) for f in (factors or [])]
    for c in data.columns:
        if str(c) not in out and is_categorical(data[c]):
            out.append(str(c))
    return out


def _integral(s: pd.Series) -> bool:
    v = s.dropna().to_numpy(dtype=float)
    return v.size > 0 and bool(np.all(np.isfinite(v))) and bool(np.all(v == np.round(v))) and bool(np.all(np.abs(v) < 2**53))


def na_token(frames: Iterable[pd.DataFrame]) -> str:
    """The missing-value marker: "NA" unless a cell holds that string."""
    for df in frames:
        for c in df.columns:
            s = df[c]
            if s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s.dtype):
                if (s.astype(object) == NA_TOKEN).any():
                    return _ALT_NA_TOKEN
    return NA_TOKEN


def to_csv_frame(data: pd.DataFrame, factors: Sequence[str]) -> pd.DataFrame:
    """A copy of data ready for CSV: column names as strings, and factor
    columns that pandas holds as floats only because of a NaN (whole
    numbers) written as integers, so that level 308 is "308", not "308.0"."""
    out = data.copy(deep=False)
    out.columns = [str(c) for c in out.columns]
    if len(set(out.columns)) != len(out.columns):
        dup = sorted({c for c in out.columns if list(out.columns).count(c) > 1})
        raise ValueError(f"data has duplicate column names: {', '.join(dup)}")
    fs = set(factors)
    for c in out.columns:
        s = out[c]
        if c in fs and pd.api.types.is_float_dtype(s.dtype) and _integral(s):
            out[c] = s.astype("Int64")
        elif isinstance(s.dtype, pd.CategoricalDtype):
            out[c] = s.astype(object)
    return out


def write_csv(data: pd.DataFrame, factors: Sequence[str], path: Path, na: str) -> None:
    """Writes data as the binary's CSV (header row, NaN as na, floats
    written exactly)."""
    to_csv_frame(data, factors).to_csv(path, index=False, na_rep=na, lineterminator="\n")


def reference_levels(data: pd.DataFrame) -> Dict[str, str]:
    """For each pandas Categorical column, its first category that occurs
    in the data: the reference level of treatment contrasts, as R takes the
    first level of a factor."""
    ref = {}
    for c in data.columns:
        s = data[c]
        if isinstance(s.dtype, pd.CategoricalDtype) and len(s.cat.categories) > 0:
            present = set(s.dropna().unique())
            for cat in s.cat.categories:
                if cat in present:
                    ref[str(c)] = str(cat)
                    break
    return ref


# ---------------------------------------------------------------- TOML

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k, ensure_ascii=False)


def toml_value(v) -> str:
    if isinstance(v, bool) or isinstance(v, np.bool_):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if f.is_integer() and abs(f) < 2**53:
            return str(int(f))
        return repr(f)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} ({type(v).__name__}) in a config")


def toml(sections: Sequence[Tuple[str, Dict[str, object]]]) -> str:
    """Renders [(section, {key: value})] as TOML, skipping empty sections
    (but keeping [priors] when it has keys)."""
    lines = ["# written by the lmmbayes Python package"]
    for name, keys in sections:
        if not keys:
            continue
        lines.append("")
        lines.append(f"[{name}]")
        for k, v in keys.items():
            lines.append(f"{toml_key(str(k))} = {toml_value(v)}")
    return "\n".join(lines) + "\n"


def read_toml(path: Path) -> Optional[dict]:
    """Parses a TOML file with tomllib (Python 3.11+); None without it."""
    try:
        import tomllib  # type: ignore[import-not-found]
    except ImportError:  # Python < 3.11
        return None
    with open(path, "rb") as f:
        return tomllib.load(f)
