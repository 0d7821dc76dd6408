"""Posterior: the run dir of ``lmmbayes run``, read with pandas."""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _cli, _io
from .model import _mkdtemp

__all__ = ["Posterior"]

_DRAWS_FILE = re.compile(r"^draws_(\d+)\.csv$")
_RUN_K_JSON = re.compile(r"^run_(\d+)\.json$")
_SUMMARY_VARS = re.compile(r"^(b_|sd_|cor_|sigma$|shape$|phi$)")


class Posterior:
    """The posterior draws of one run, as ``lmmbayes run`` wrote them.

    Made by :meth:`Model.sample <lmmbayes.Model.sample>`, or reopened
    from any run dir (made by the package or by the command line) with
    :meth:`from_dir`. ``run_dir`` is the binary's run dir (``draws_K.csv``,
    ``summary.csv``, ``run.json``, ...), ``info`` its run.json,
    ``config_path`` the config that describes the model (``predict`` and
    ``compare`` read it).
    """

    def __init__(
        self,
        run_dir: Union[str, os.PathLike],
        config: Optional[Union[str, os.PathLike]] = None,
        *,
        model=None,
        output_dir: Optional[Union[str, os.PathLike]] = None,
    ):
        self.run_dir = Path(run_dir).absolute()
        self.model = model
        self.output_dir = Path(output_dir).absolute() if output_dir is not None else self.run_dir
        self.stdout: Optional[str] = None
        meta = _run_meta_file(self.run_dir)
        if meta is None and not _draws_files(self.run_dir):
            raise FileNotFoundError(f"{self.run_dir}: no run here (no run.json, run_K.json or draws_K.csv): make one with Model.sample or `lmmbayes run`")
        self.info: dict = json.loads(meta.read_text()) if meta is not None else {}
        self._binary = model._binary if model is not None else _cli.find_binary()
        if config is not None:
            self.config_path = Path(config).absolute()
        else:
            self.config_path = self._find_config()

    # -------------------------------------------------------------- opening

    @classmethod
    def from_dir(cls, path: Union[str, os.PathLike]) -> "Posterior":
        """Reopens a run: a run dir made by ``lmmbayes run`` (it holds
        run.json and draws_K.csv), or an ``output_dir`` given to
        ``Model.sample`` (it holds model.toml, data.csv and run/)."""
        p = Path(path).expanduser().absolute()
        if not p.is_dir():
            raise FileNotFoundError(f"{p}: no such directory")
        if _run_meta_file(p) is None and not _draws_files(p) and (p / "run").is_dir() and (p / "model.toml").is_file():
            return cls(p / "run", config=p / "model.toml", output_dir=p)
        return cls(p)

    def _find_config(self) -> Path:
        """The config recorded in run.json when it is still there;
        otherwise one written from what run.json records (formula, data
        file, categorical columns), enough for predict and compare."""
        cfg = self.info.get("config")
        if cfg and Path(cfg).is_file():
            return Path(cfg)
        info = self.info
        formula = info.get("formula")
        if not formula:
            raise FileNotFoundError(f"{self.run_dir}: run.json records no formula and the run's config {cfg!r} is gone: predict and compare need it")
        data = (info.get("data_file") or {}).get("path") or info.get("data") or "data.csv"
        d = _mkdtemp("lmmbayes-config-")
        text = _io.toml(
            [
                ("data", {"path": str(data), "factors": list(info.get("categorical_columns") or [])}),
                ("model", {"formula": formula}),
                ("output", {"dir": str(self.run_dir)}),
            ]
        )
        p = d / "model.toml"
        p.write_text(text)
        return p

    # -------------------------------------------------------------- what the run recorded

    @property
    def formula(self) -> str:
        return self.info.get("formula", "")

    @property
    def seed(self) -> Optional[int]:
        return self.info.get("seed")

    @property
    def chains(self) -> int:
        return len(self._chain_files())

    @property
    def incomplete(self) -> bool:
        """True when Ctrl-C stopped the run early (it wrote the draws made so far)."""
        return bool(self.info.get("incomplete", False))

    @property
    def warnings(self) -> List[str]:
        """The run's warnings (R-hat, ESS, divergences, ...), from run.json."""
        return list(self.info.get("warnings") or [])

    @property
    def report_path(self) -> Optional[Path]:
        """run_dir/report.html when it exists (``plot()`` or the
        ``plots=True`` setting write it), else None."""
        p = self.run_dir / "report.html"
        return p if p.is_file() else None

    def _warn(self) -> None:
        for w in self.warnings:
            warnings.warn(f"lmmbayes: {w}", _cli.LmmbayesWarning, stacklevel=3)

    # -------------------------------------------------------------- summaries

    def summary(self) -> pd.DataFrame:
        """summary.csv as a DataFrame indexed by variable: mean, sd,
        median, mad, q2.5, q5, q95, q97.5, rhat, ess_bulk, ess_tail,
        mcse_mean, mcse_sd (R posterior's definitions, every draw)."""
        p = self.run_dir / "summary.csv"
        if not p.is_file():
            raise FileNotFoundError(f"{p}: no summary (chains run as separate processes are merged by `lmmbayes summarize {self.run_dir}`)")
        return pd.read_csv(p, index_col="variable", keep_default_na=False, na_values=["NA", "NaN", ""])

    def coef(self) -> pd.DataFrame:
        """coef.csv: per grouping factor, level and effect, the posterior of
        lme4's ``coef()`` (fixed plus random coefficients): mean, sd, q2.5,
        q97.5."""
        p = self.run_dir / "coef.csv"
        if not p.is_file():
            raise FileNotFoundError(f"{p}: no coef.csv (a run with random_effects = false has none)")
        return pd.read_csv(p, dtype={"group": str, "level": str, "effect": str}, keep_default_na=False)

    def ppc(self) -> pd.DataFrame:
        """ppc.csv: per training row the observed y and the posterior
        predictive summaries (docs/prediction.md)."""
        return pd.read_csv(self.run_dir / "ppc.csv")

    # -------------------------------------------------------------- draws

    def _chain_files(self) -> List[Path]:
        return _draws_files(self.run_dir)

    def _column_names(self) -> Dict[str, str]:
        """draws-file column → summary name (r_Subject.1.2 → r_Subject[308,Days])."""
        p = self.run_dir / "random_effects.csv"
        if not p.is_file():
            return {}
        re_map = pd.read_csv(p, dtype=str, keep_default_na=False)
        return dict(zip(re_map["column"], re_map["summary_name"]))

    def draws(self, vars: Optional[Union[str, Sequence[str]]] = None, *, format: str = "wide") -> pd.DataFrame:
        """The post-warmup draws of every chain.

        ``format="wide"``: one row per draw, columns ``chain``,
        ``iteration`` (1… within the chain), ``draw`` (1… over all chains,
        in chain order), then the variables. ``format="long"``: columns
        ``chain``, ``iteration``, ``draw``, ``variable``, ``value``.
        Variables are named as in :meth:`summary` (``b_Days``,
        ``r_Subject[308,Days]``, ``lp__``); ``vars`` picks some by name."""
        if format not in ("wide", "long"):
            raise ValueError(f"format must be 'wide' or 'long', got {format!r}")
        files = self._chain_files()
        if not files:
            raise FileNotFoundError(f"{self.run_dir}: no draws_K.csv")
        names = self._column_names()
        inverse = {v: k for k, v in names.items()}
        usecols = None
        if vars is not None:
            if isinstance(vars, str):
                vars = [vars]
            vars = list(vars)
            header = _header(files[0])
            known = [names.get(c, c) for c in header]
            missing = [v for v in vars if v not in known]
            if missing:
                raise KeyError(f"no variable {', '.join(map(repr, missing))} in the draws of {self.run_dir} (variables: {', '.join(known[:12])}{', …' if len(known) > 12 else ''})")
            usecols = [inverse.get(v, v) for v in vars]
        frames = []
        total = 0
        for f in files:
            k = int(_DRAWS_FILE.match(f.name).group(1))
            df = pd.read_csv(f, comment="#", usecols=usecols, float_precision="round_trip")
            if usecols is not None:
                df = df[usecols]
            n = len(df)
            df.insert(0, "draw", np.arange(total + 1, total + n + 1))
            df.insert(0, "iteration", np.arange(1, n + 1))
            df.insert(0, "chain", k)
            total += n
            frames.append(df)
        out = pd.concat(frames, ignore_index=True)
        out = out.rename(columns=names)
        if format == "long":
            out = out.melt(id_vars=["chain", "iteration", "draw"], var_name="variable", value_name="value")
        return out

    def to_arviz(self):
        """The draws as an ArviZ InferenceData, through ArviZ's own
        ``from_cmdstan`` reader of the draws files (needs ArviZ)."""
        try:
            import arviz as az  # type: ignore[import-not-found]
        except ImportError as e:
            raise ImportError("to_arviz needs ArviZ: pip install arviz") from e
        files = [str(f) for f in self._chain_files()]
        return az.from_cmdstan(posterior=files)

    # -------------------------------------------------------------- binary commands

    def predict(
        self,
        newdata: pd.DataFrame,
        re_form: Optional[object] = None,
        new_levels: str = "gaussian",
        *,
        seed: Optional[int] = None,
        return_draws: bool = False,
    ):
        """Predicts the rows of newdata with ``lmmbayes predict``: newdata
        (its index and columns kept) with epred_mean, epred_sd, epred_q2.5,
        epred_q97.5 (the expected response x β + z b) and pred_mean,
        pred_sd, pred_q2.5, pred_q50, pred_q97.5 (the posterior predictive).

        Levels seen in training use their drawn effects; new levels get
        effects drawn from N(0, Σ) (``new_levels="gaussian"``) or are
        refused (``"error"``, a ValueError). ``re_form="NA"`` (or
        ``np.nan``, ``"~0"``) leaves out every random effect, as lme4's
        ``re.form = NA``. ``seed`` defaults to the run's seed.
        ``return_draws=True`` also returns every predictive draw as a
        DataFrame (rows: draws, columns: newdata's index)."""
        if not isinstance(newdata, pd.DataFrame):
            raise TypeError(f"newdata must be a pandas DataFrame, got {type(newdata).__name__}")
        form = _re_form(re_form)
        d = _mkdtemp("lmmbayes-predict-")
        try:
            factors = self._factor_columns(newdata)
            na = self._na_token(newdata)
            nd = d / "newdata.csv"
            _io.write_csv(newdata, factors, nd, na)
            out = d / "predictions.csv"
            args = ["predict", str(self.config_path), "--run", str(self.run_dir), "--newdata", str(nd), "--out", str(out), "--new-levels", new_levels]
            if form is not None:
                args += ["--re-form", form]
            if seed is not None:
                args += ["--seed", str(int(seed))]
            if return_draws:
                args += ["--draws-out", str(d / "draws.csv")]
            _cli.run(args, binary=self._binary)
            pred = pd.read_csv(out, float_precision="round_trip")
            if len(pred) != len(newdata):
                raise _cli.LmmbayesError(f"lmmbayes predict wrote {len(pred)} rows for {len(newdata)} new rows")
            added = [c for c in pred.columns if c.startswith("epred_") or c.startswith("pred_")]
            res = newdata.copy()
            for c in added:
                res[c] = pred[c].to_numpy()
            if return_draws:
                dr = pd.read_csv(d / "draws.csv", float_precision="round_trip")
                dr.columns = newdata.index
                dr.index = pd.RangeIndex(1, len(dr) + 1, name="draw")
                return res, dr
            return res
        finally:
            import shutil

            shutil.rmtree(d, ignore_errors=True)

    def _factor_columns(self, newdata: pd.DataFrame) -> List[str]:
        given: List[str] = []
        if self.model is not None:
            given = list(self.model.factors)
        else:
            cfg = _io.read_toml(self.config_path) or {}
            given = [str(x) for x in (cfg.get("data", {}).get("factors") or [])]
            given += [str(x) for x in (self.info.get("categorical_columns") or [])]
            for f in ((self.info.get("levels") or {}).get("factors") or []):
                given.append(str(f.get("column")))
        return _io.factor_columns(newdata, given)

    def _na_token(self, newdata: pd.DataFrame) -> str:
        if self.model is not None:
            return self.model.na
        cfg = _io.read_toml(self.config_path) or {}
        na = cfg.get("data", {}).get("na")
        if na:
            return str(na[0])
        return _io.NA_TOKEN

    def compare(self) -> pd.DataFrame:
        """``lmmbayes compare``: per parameter (brms names) the ML estimate
        and SE beside the posterior mean, SD and 95% interval, and diff_sd =
        (post_mean − ml_estimate) / post_sd; indexed by variable.
        ``.attrs["ranef"]`` holds, per grouping factor and effect, the
        correlation of the ML conditional modes with the posterior means."""
        r = _cli.run(["compare", str(self.config_path), "--run", str(self.run_dir), "--format", "json"], binary=self._binary)
        js = json.loads(r.stdout)
        df = pd.DataFrame(js.get("parameters") or []).set_index("variable")
        df.attrs["ranef"] = pd.DataFrame(js.get("ranef") or [])
        return df

    def plot(self, vars: Optional[str] = None, *, format: str = "png", report: bool = True) -> List[Path]:
        """``lmmbayes plot``: trace, density, rank, PPC and caterpillar
        plots in run_dir/plots, and report.html (``report=True``, see
        :attr:`report_path`). Returns the paths of the images. ``vars`` is
        a regex of the variables to plot (default: b_, sd_, cor_, sigma)."""
        args = ["plot", str(self.run_dir), "--format", format]
        if vars is not None:
            args += ["--vars", vars]
        if report:
            args.append("--report")
        r = _cli.run(args, binary=self._binary)
        paths = []
        for line in r.stdout.splitlines():
            s = line.strip()
            if s.endswith("." + format):
                p = Path(s)
                paths.append(p if p.is_absolute() else (Path.cwd() / p))
        return paths

    def loo(self, *others: "Posterior", args: Sequence[str] = ()) -> Union[dict, str]:
        """``lmmbayes loo`` on this run (and others, to compare them):
        PSIS-LOO of the pointwise log-likelihood (sample with
        ``log_lik=True``). Returns the JSON the binary prints when it
        offers ``--format json``, else its printed table. Raises
        NotImplementedError when the binary has no ``loo`` command."""
        if "loo" not in _cli.commands(self._binary):
            raise NotImplementedError(
                f'this lmmbayes binary ({self._binary}, version {_cli.binary_version(self._binary)}) has no "loo" command: '
                "install a version that has it to compute PSIS-LOO"
            )
        argv = ["loo", str(self.run_dir), *[str(o.run_dir) for o in others], *args]
        as_json = "--format" in _cli.command_help("loo", self._binary) and "--format" not in args
        if as_json:
            argv += ["--format", "json"]
        r = _cli.run(argv, binary=self._binary)
        if as_json:
            return json.loads(r.stdout)
        return r.stdout

    # -------------------------------------------------------------- printing

    def __str__(self) -> str:
        info = self.info
        lines = [f"lmmbayes posterior: {self.formula}"]
        if info:
            lines.append(
                f"  {info.get('chains', self.chains)} chains × {info.get('draws')} draws (warmup {info.get('warmup')}, thin {info.get('thin')}), "
                f"method {info.get('method')}, seed {info.get('seed')}, {info.get('nobs')} observations"
                + (" — INCOMPLETE (interrupted)" if self.incomplete else "")
            )
        lines.append(f"  run dir: {self.run_dir}")
        try:
            s = self.summary()
        except FileNotFoundError:
            return "\n".join(lines)
        keep = [v for v in s.index if _SUMMARY_VARS.match(str(v))]
        cols = ["mean", "sd", "q2.5", "q97.5", "rhat", "ess_bulk", "ess_tail"]
        t = s.loc[keep, cols].copy()
        lines.append("")
        lines.append(t.to_string(float_format=lambda x: f"{x:.4g}" if math.isfinite(x) else str(x)))
        for w in self.warnings:
            lines.append(f"Warning: {w}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Posterior {self.formula!r} at {self.run_dir}>"


def _re_form(re_form) -> Optional[str]:
    if re_form is None:
        return None
    if isinstance(re_form, float) and math.isnan(re_form):
        return "NA"
    if re_form is pd.NA:
        return "NA"
    s = str(re_form).strip()
    if s.replace(" ", "") in ("NA", "~0", "0"):
        return "NA"
    return s


def _draws_files(d: Path) -> List[Path]:
    if not d.is_dir():
        return []
    fs = [(int(m.group(1)), p) for p in d.iterdir() if (m := _DRAWS_FILE.match(p.name))]
    return [p for _, p in sorted(fs)]


def _run_meta_file(d: Path) -> Optional[Path]:
    p = d / "run.json"
    if p.is_file():
        return p
    if not d.is_dir():
        return None
    ks = sorted((int(m.group(1)), q) for q in d.iterdir() if (m := _RUN_K_JSON.match(q.name)))
    return ks[0][1] if ks else None


def _header(path: Path) -> List[str]:
    with open(path) as f:
        for line in f:
            if not line.startswith("#"):
                return line.rstrip("\n").split(",")
    return []
