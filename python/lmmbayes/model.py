"""Model: a formula and a pandas DataFrame, fitted by ML/REML or sampled."""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _cli, _io

__all__ = ["Model", "FitResult"]

# Settings of sample(**settings) and the config section each belongs to.
# A name not listed goes to [sampler], where the binary names it if it
# does not know it.
SETTING_SECTIONS = {
    "thin": "sampler",
    "method": "sampler",
    "conjugate_inv_gamma": "sampler",
    "random_effects": "output",
    "plots": "output",
    "ml_fit": "output",
    "memory_mb": "output",
    "log_lik": "output",
    "ppc": "output",
}

_tempdirs: List[str] = []


def _cleanup_tempdirs() -> None:
    for d in _tempdirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup_tempdirs)


def _mkdtemp(prefix: str) -> Path:
    d = tempfile.mkdtemp(prefix=prefix)
    _tempdirs.append(d)
    return Path(d)


_DROPPED = re.compile(r"dropped (\d+) rows? with a missing value in a column the model uses \((?:line|lines) ([0-9, ]+)(?: and \d+ more)?\); (\d+) of (\d+) rows are used")
_IDENT = re.compile(r"`([^`]+)`|([A-Za-z_.][A-Za-z0-9_.]*)")


class Model:
    """A linear mixed model: an lme4 formula and a pandas DataFrame.

    ``Model("Reaction ~ Days + (Days | Subject)", df, factors=["Subject"])``
    writes the data as CSV (categorical, object, string and boolean
    columns become factors, besides those named in ``factors``; NaN is a
    missing value) and checks the model at once with the binary's own
    checks (``lmmbayes fit``): a bad formula, an unknown column or a
    non-numeric predictor raises ValueError with the binary's message.
    Rows with a missing value in a column the model uses are dropped, and
    reported on stderr as the binary reports them; ``dropped_rows`` holds
    their index labels.

    ``priors`` maps the [priors] keys of a config (``{"b": "normal(0,
    10)", "sd": "student_t(3, 0, 50)"}``, see docs/priors.md) to brms-style
    strings; they are checked when ``sample`` starts, before any sampling.
    ``family`` other than "gaussian" is passed on as ``[model] family``
    (the binary refuses it while it supports only the Gaussian family).
    """

    def __init__(
        self,
        formula: str,
        data: pd.DataFrame,
        *,
        factors: Optional[Union[str, Sequence[str]]] = None,
        family: str = "gaussian",
        priors: Optional[Mapping[str, str]] = None,
    ):
        if not isinstance(formula, str):
            raise TypeError(f"formula must be a string such as 'y ~ x + (1 | g)', got {type(formula).__name__}")
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
        if isinstance(factors, str):
            factors = [factors]
        if priors is not None and not isinstance(priors, Mapping):
            raise TypeError("priors must be a dict such as {'b': 'normal(0, 10)'}")
        self.formula = formula
        self.data = data
        self.family = family
        self.priors: Dict[str, str] = {str(k): str(v) for k, v in (priors or {}).items()}
        self.factors: List[str] = _io.factor_columns(data, factors)
        self.reference: Dict[str, str] = _io.reference_levels(data)
        self.na = _io.na_token([data])
        self._binary = _cli.find_binary()
        self._seen: set = set()
        self._dir = _mkdtemp("lmmbayes-model-")
        # The model's CSV and config go when the model does (what reads
        # them, a FitResult's summary, holds the model).
        weakref.finalize(self, shutil.rmtree, str(self._dir), True)
        self.data_path = self._dir / "data.csv"
        _io.write_csv(data, self.factors, self.data_path, self.na)
        self.config_path = self._dir / "model.toml"
        self.config_path.write_text(self._config(self.data_path.name, None))
        self._fits: Dict[bool, FitResult] = {}
        # The binary's checks, and the ML fit that .fit() returns.
        res = self._run_fit(reml=False)
        self.nobs: int = int(res.json["nobs"])
        self._used: Optional[pd.Index] = None
        self.dropped_rows: pd.Index = self._dropped(res)
        res._index_fitted(self._used)
        self._fits[False] = res

    # -------------------------------------------------------------- config

    def _config(self, data_path: str, sampler: Optional[Dict[str, object]], output: Optional[Dict[str, object]] = None) -> str:
        data: Dict[str, object] = {"path": data_path, "factors": self.factors, "na": [self.na]}
        sections = [("data", data)]
        if self.reference:
            sections.append(("data.reference", dict(self.reference)))
        m: Dict[str, object] = {"formula": self.formula}
        if self.family != "gaussian":
            m["family"] = self.family
        sections.append(("model", m))
        sections.append(("priors", dict(self.priors)))
        if sampler:
            sections.append(("sampler", sampler))
        if output:
            sections.append(("output", output))
        return _io.toml(sections)

    def _fit_args(self, reml: bool, json_out: bool) -> List[str]:
        args = ["fit", str(self.config_path), "--formula", self.formula]
        if reml:
            args.append("--reml")
        if json_out:
            args.append("--json")
        return args

    def _run_fit(self, reml: bool) -> "FitResult":
        r = _cli.run(self._fit_args(reml, True), binary=self._binary, seen=self._seen)
        res = FitResult(json.loads(r.stdout), self, reml, r.stderr_lines)
        res._index_fitted(getattr(self, "_used", None))
        return res

    def _dropped(self, res: "FitResult") -> pd.Index:
        """The index labels of the rows the binary dropped. They are found
        here as the rows with a NaN in a column the formula names, and
        checked against the count and lines the binary reported."""
        n = len(self.data)
        msg = next((m for m in (_DROPPED.search(line) for line in res.messages) if m), None)
        if msg is None:
            if self.nobs == n:
                self._used = self.data.index
            return self.data.index[:0]
        count = int(msg.group(1))
        lines = [int(x) for x in msg.group(2).replace(" ", "").split(",") if x]
        cols = self._formula_columns()
        mask = self.data[cols].isna().any(axis=1).to_numpy() if cols else np.zeros(n, bool)
        pos = np.flatnonzero(mask)
        if len(pos) == count and all(0 <= line - 2 < n and mask[line - 2] for line in lines):
            self._used = self.data.index[~mask]
            return self.data.index[pos]
        return self.data.index[[line - 2 for line in lines if 0 <= line - 2 < n]]

    def _formula_columns(self) -> List[str]:
        cols = [str(c) for c in self.data.columns]
        seen = []
        for m in _IDENT.finditer(self.formula):
            name = m.group(1) or m.group(2)
            if name in cols and name not in seen:
                seen.append(name)
        return [self.data.columns[cols.index(c)] for c in seen]

    # -------------------------------------------------------------- fit

    def fit(self, reml: bool = False) -> "FitResult":
        """Fits the model by maximum likelihood (``reml=False``, lme4's
        ``REML = FALSE``) or REML, as ``lmer`` does, with ``lmmbayes fit``."""
        reml = bool(reml)
        if reml not in self._fits:
            self._fits[reml] = self._run_fit(reml)
        return self._fits[reml]

    # -------------------------------------------------------------- sample

    def sample(
        self,
        chains: int = 4,
        warmup: int = 1000,
        draws: int = 1000,
        seed: Optional[int] = None,
        output_dir: Optional[Union[str, os.PathLike]] = None,
        *,
        progress: _cli.ProgressArg = True,
        **settings,
    ):
        """Samples the posterior with ``lmmbayes run`` and returns a
        :class:`~lmmbayes.Posterior`.

        ``output_dir`` (a new or empty dir) receives ``data.csv``,
        ``model.toml`` and the run dir ``run/`` with the binary's files;
        without it they go to a temporary dir removed when Python exits.
        ``seed`` None lets the binary choose one (recorded in run.json).
        ``settings`` are other config keys: ``thin``, ``method``,
        ``conjugate_inv_gamma`` ([sampler]) and ``random_effects``,
        ``plots``, ``ml_fit``, ``memory_mb`` ([output]); others go to
        [sampler] and the binary names any it does not know.
        ``progress``: True writes the binary's progress lines to stderr,
        False shows none, a function ``f(chain, iteration, total)``
        receives them.

        Ctrl-C stops the run as it does in a terminal: the draws made so
        far are written, marked incomplete, and :class:`~lmmbayes.Interrupted`
        (a KeyboardInterrupt) is raised carrying ``run_dir`` and the
        reopened ``posterior``.
        """
        from .posterior import Posterior

        sampler: Dict[str, object] = {"chains": chains, "warmup": warmup, "draws": draws}
        if seed is not None:
            sampler["seed"] = seed
        output: Dict[str, object] = {"dir": "run"}
        for k, v in settings.items():
            sec = SETTING_SECTIONS.get(k, "sampler")
            (sampler if sec == "sampler" else output)[k] = v
        created = False
        if output_dir is None:
            out = _mkdtemp("lmmbayes-run-")
        else:
            out = Path(output_dir).expanduser().absolute()
            if out.exists():
                if not out.is_dir():
                    raise ValueError(f"output_dir {out} is a file; name a new or empty dir")
                if any(out.iterdir()):
                    raise ValueError(f"output_dir {out} already holds files; name a new or empty dir (a run needs a dir of its own)")
            else:
                out.mkdir(parents=True)
                created = True
        data_path, config_path, run_dir = out / "data.csv", out / "model.toml", out / "run"
        shutil.copyfile(self.data_path, data_path)
        config_path.write_text(self._config("data.csv", sampler, output))
        args = ["run", str(config_path)]
        if progress is False or progress is None:
            args.append("--quiet")
        else:
            args.append("--progress")

        def cleanup() -> None:
            for p in (data_path, config_path):
                try:
                    p.unlink()
                except OSError:
                    pass
            if created:
                try:
                    out.rmdir()
                except OSError:
                    pass

        def interrupted():
            if _has_draws(run_dir):
                post = Posterior(run_dir, config=config_path, model=self, output_dir=out)
                return _cli.Interrupted(
                    f"lmmbayes run was interrupted: the draws made so far were written to {run_dir}, "
                    "marked incomplete; reopen them with Posterior.from_dir",
                    run_dir,
                    post,
                )
            cleanup()
            return _cli.Interrupted("lmmbayes run was interrupted before any draws were saved: nothing was written")

        try:
            r = _cli.run(args, progress=progress, binary=self._binary, on_interrupt=interrupted, seen=self._seen)
        except _cli.Interrupted:
            raise
        except BaseException:
            # A refused or failed run, or an exception in a progress
            # callback (the binary was then stopped at once): a run that
            # wrote nothing leaves nothing behind.
            if not run_dir.exists():
                cleanup()
            raise
        post = Posterior(run_dir, config=config_path, model=self, output_dir=out)
        post.stdout = r.stdout
        post._warn()
        return post

    def __repr__(self) -> str:
        return f"Model({self.formula!r}, <DataFrame {len(self.data)} rows>, factors={self.factors!r}, nobs={self.nobs})"


def _has_draws(run_dir: Path) -> bool:
    return run_dir.is_dir() and any(run_dir.glob("draws_*.csv"))


class FitResult:
    """An ML or REML fit, as lme4's ``lmer`` gives it.

    ``fixef``: DataFrame of the fixed effects (index: lme4's coefficient
    names; columns ``Estimate``, ``Std. Error``, ``t value``, as
    ``coef(summary(m))``). ``ranef`` and ``coef``: dicts from grouping
    factor to a DataFrame (index: the levels; columns: the effects), as
    lme4's ``ranef(m)`` and ``coef(m)``. ``varcorr``: DataFrame with the
    columns of ``as.data.frame(VarCorr(m))``: ``grp``, ``var1``, ``var2``,
    ``vcov``, ``sdcor``. ``loglik``, ``aic``, ``bic``, ``deviance`` (the
    objective: −2 log-likelihood for ML, the REML criterion), ``sigma``,
    ``nobs``, ``theta``, ``singular``; ``fitted``: a Series of the fitted
    values indexed by the data rows used; ``json`` is what ``lmmbayes fit
    --json`` printed. ``str(fit)`` is the binary's lme4-style summary.
    """

    def __init__(self, js: dict, model: Optional[Model], reml: bool, messages: Optional[List[str]] = None):
        self.json = js
        self._model = model
        self.reml = bool(js.get("reml", reml))
        self.formula: str = js["formula"]
        self.nobs: int = int(js["nobs"])
        self.loglik: float = float(js["logLik"])
        self.aic: float = float(js["AIC"])
        self.bic: float = float(js["BIC"])
        self.deviance: float = float(js["objective"])
        self.sigma: float = float(js["sigma"])
        th = js.get("theta", [])
        self.theta = np.atleast_1d(np.asarray(th, dtype=float))
        self.singular: bool = bool(js.get("singular", False))
        names = list(js["fixef"].keys())
        est = np.array([js["fixef"][n] for n in names], dtype=float)
        se = np.array([js.get("fixef_se", {}).get(n, np.nan) for n in names], dtype=float)
        self.fixef = pd.DataFrame({"Estimate": est, "Std. Error": se, "t value": est / se}, index=pd.Index(names, name="term"))
        rows = []
        for v in js.get("varcorr", []):
            rows.append(
                {
                    "grp": v["group"],
                    "var1": v.get("var1") or None,
                    "var2": v.get("var2") or None,
                    "vcov": float(v["vcov"]),
                    "sdcor": float(v["sdcor"]),
                }
            )
        self.varcorr = pd.DataFrame(rows, columns=["grp", "var1", "var2", "vcov", "sdcor"])
        self.ranef = _effects(js.get("ranef") or {})
        self.coef = _effects(js.get("coef") or {})
        self.fitted = pd.Series(np.asarray(js.get("fitted") or [], dtype=float), name="fitted")
        self.messages: List[str] = messages or []
        self._text: Optional[str] = None

    def _index_fitted(self, used: Optional[pd.Index]) -> None:
        """Labels the fitted values with the index of the rows they belong
        to, when the rows used are known."""
        if used is not None and len(used) == len(self.fitted):
            self.fitted.index = used

    def __str__(self) -> str:
        if self._text is None:
            if self._model is None:
                return repr(self)
            r = _cli.run(self._model._fit_args(self.reml, False), binary=self._model._binary, seen=self._model._seen)
            self._text = r.stdout.rstrip("\n")
        return self._text

    def __repr__(self) -> str:
        kind = "REML" if self.reml else "ML"
        return f"<FitResult {kind} {self.formula!r}: logLik {self.loglik:.4f}, nobs {self.nobs}>"


def _effects(block: dict) -> Dict[str, pd.DataFrame]:
    out = {}
    for group, g in block.items():
        levels = [str(x) for x in g["levels"]]
        values = {name: np.asarray(v, dtype=float) for name, v in g["values"].items()}
        out[group] = pd.DataFrame(values, index=pd.Index(levels, name=group))
    return out
