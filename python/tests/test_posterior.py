"""Model.sample and Posterior: summary, draws, predict (a new subject),
coef, ppc, compare, plot, report, from_dir, loo, to_arviz, settings."""

import math
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import lmmbayes
from conftest import DATASETS, SMALL, TESTDATA, read_data

SUMMARY_COLUMNS = ["mean", "sd", "median", "mad", "q2.5", "q5", "q95", "q97.5", "rhat", "ess_bulk", "ess_tail", "mcse_mean", "mcse_sd"]
PRED_COLUMNS = ["epred_mean", "epred_sd", "epred_q2.5", "epred_q97.5", "pred_mean", "pred_sd", "pred_q2.5", "pred_q50", "pred_q97.5"]


def test_sample_writes_the_run(posteriors, dataset):
    post = posteriors(dataset)
    out = post.output_dir
    assert sorted(p.name for p in out.iterdir()) == ["data.csv", "model.toml", "run"]
    assert post.run_dir == out / "run"
    assert (post.run_dir / "run.json").is_file()
    assert post.info["chains"] == 2 and post.info["draws"] == 200 and post.info["warmup"] == 200
    assert post.seed == SMALL["seed"] and post.chains == 2 and not post.incomplete
    assert post.formula == DATASETS[dataset]["formula"]
    assert isinstance(post.warnings, list)
    s = str(post)
    assert "b_Intercept" in s and "sigma" in s and "2 chains × 200 draws" in s
    assert repr(post).startswith("<Posterior ")


def test_summary_equals_summary_csv(posteriors, dataset):
    post = posteriors(dataset)
    s = post.summary()
    raw = pd.read_csv(post.run_dir / "summary.csv")
    assert s.index.name == "variable"
    assert list(s.columns) == SUMMARY_COLUMNS == list(raw.columns[1:])
    assert list(s.index) == list(raw["variable"])
    # Every value exactly as the file holds it.
    np.testing.assert_array_equal(s.to_numpy(), raw.iloc[:, 1:].to_numpy())
    assert s.loc["b_Intercept", "rhat"] < 1.1


def test_draws_match_summary(posteriors, dataset):
    """The means and SDs of draws() are those of summary.csv (computed by
    the binary from the same draws): the draws are read whole, each column
    under its summary name."""
    post = posteriors(dataset)
    s = post.summary()
    w = post.draws()
    assert list(w.columns[:3]) == ["chain", "iteration", "draw"]
    assert len(w) == 400
    assert list(w["chain"].unique()) == [1, 2]
    assert list(w["iteration"][:3]) == [1, 2, 3] and w["iteration"].max() == 200
    assert list(w["draw"]) == list(range(1, 401))
    variables = [c for c in w.columns[3:] if not c.endswith("__")]
    assert sorted(variables) == sorted(s.index)
    for v in variables:
        assert w[v].mean() == pytest.approx(s.loc[v, "mean"], rel=1e-9, abs=1e-9), v
        assert w[v].std(ddof=1) == pytest.approx(s.loc[v, "sd"], rel=1e-9, abs=1e-12), v


def test_draws_long_and_vars(posteriors, dataset):
    spec = DATASETS[dataset]
    post = posteriors(dataset)
    r = f"r_{spec['group']}[{spec['seen']},Intercept]"
    w = post.draws(["b_Intercept", r])
    assert list(w.columns) == ["chain", "iteration", "draw", "b_Intercept", r]
    long = post.draws(["b_Intercept", r], format="long")
    assert list(long.columns) == ["chain", "iteration", "draw", "variable", "value"]
    assert len(long) == 800
    back = long.pivot(index="draw", columns="variable", values="value")
    np.testing.assert_array_equal(back[r].to_numpy(), w[r].to_numpy())
    np.testing.assert_array_equal(w[r].to_numpy(), post.draws()[r].to_numpy())
    one = post.draws("sigma")
    assert list(one.columns) == ["chain", "iteration", "draw", "sigma"]
    with pytest.raises(KeyError, match="b_Dayz"):
        post.draws(["b_Dayz"])
    with pytest.raises(ValueError, match="wide"):
        post.draws(format="tall")


def test_predict_seen_and_new_subject(posteriors, dataset):
    """A seen level uses its drawn effects (its epred_mean is the mean of
    the draws of x β + z b, an identity); a new level gets N(0, Σ) effects,
    centred on the population line within Monte Carlo error; re_form="NA"
    gives the population line; new_levels="error" refuses the new level
    with the binary's message."""
    spec = DATASETS[dataset]
    post = posteriors(dataset)
    new = spec["new"]
    w = post.draws()
    p = post.predict(new)
    assert list(p.index) == list(new.index)
    assert list(p.columns) == list(new.columns) + PRED_COLUMNS
    pd.testing.assert_frame_equal(p[list(new.columns)], new)
    pop = post.predict(new, re_form="NA")
    if dataset == "sleepstudy":
        lin = lambda days: w["b_Intercept"] + days * w["b_Days"]  # noqa: E731
        seen = lin(0) + w["r_Subject[308,Intercept]"]
        pop_c = lin(9)
        # The new subject 999 at day 0: the population line.
        centre = lin(0)
    else:
        lin = lambda att: w["b_Intercept"] + (att == "pol") * w["b_attitudepol"]  # noqa: E731
        seen = lin("pol") + w["r_subject[F1,Intercept]"] + w["r_scenario[1,Intercept]"]
        pop_c = lin("inf")
        # The new subject F9 in the seen scenario 1: the population line
        # plus scenario 1's drawn effect.
        centre = lin("pol") + w["r_scenario[1,Intercept]"]
    assert p.loc[new.index[0], "epred_mean"] == pytest.approx(seen.mean(), rel=1e-12)
    assert p.loc[new.index[0], "epred_sd"] == pytest.approx(seen.std(ddof=1), rel=1e-9)
    assert pop.loc[new.index[2], "epred_mean"] == pytest.approx(pop_c.mean(), rel=1e-12)
    # The new subject: per draw, centre + u with u ~ N(0, sd_group²) drawn
    # independently, so the mean differs from centre's by Monte Carlo
    # error of SE sqrt(E[sd²] / S), and epred_sd is larger than centre's.
    sd_group = w[f"sd_{spec['group']}__Intercept"]
    i = new.index[1]
    mcse = math.sqrt((sd_group**2).mean() / len(w))
    assert abs(p.loc[i, "epred_mean"] - centre.mean()) < 5 * mcse
    assert p.loc[i, "epred_sd"] > centre.std(ddof=1)
    # Var(centre + u) = Var(centre) + E[sd²]; a variance estimated from
    # S = 400 draws has relative SE about sqrt(2 / S) = 0.07 (more with
    # the heavier tails of a scale mixture): 0.3 is about 4 SEs.
    assert p.loc[i, "epred_sd"] ** 2 == pytest.approx(centre.var(ddof=1) + (sd_group**2).mean(), rel=0.3)
    with pytest.raises(ValueError) as ei:
        post.predict(new, new_levels="error")
    assert f'levels of "{spec["group"]}" not seen in training' in str(ei.value)
    # The same seed gives the same predictions; draws come back on request.
    p2, draws = post.predict(new, seed=7, return_draws=True)
    assert draws.shape == (400, 3) and list(draws.columns) == list(new.index)
    assert p2["pred_mean"].to_numpy() == pytest.approx(draws.mean().to_numpy(), rel=1e-9)
    p3 = post.predict(new, seed=7)
    np.testing.assert_array_equal(p2[PRED_COLUMNS].to_numpy(), p3[PRED_COLUMNS].to_numpy())


def test_predict_bad_newdata(posteriors):
    post = posteriors("sleepstudy")
    with pytest.raises(ValueError, match="Days"):
        post.predict(pd.DataFrame({"Subject": [308]}))
    with pytest.raises(ValueError, match="Days"):
        post.predict(pd.DataFrame({"Days": [np.nan], "Subject": [308]}))
    with pytest.raises(TypeError):
        post.predict({"Days": [1], "Subject": [308]})
    # re_form spellings of lme4: NA, ~0.
    new = DATASETS["sleepstudy"]["new"]
    a = post.predict(new, re_form=np.nan)["epred_mean"].to_numpy()
    np.testing.assert_array_equal(a, post.predict(new, re_form="~0")["epred_mean"].to_numpy())


def test_coef_and_ppc(posteriors, dataset):
    spec = DATASETS[dataset]
    post = posteriors(dataset)
    c = post.coef()
    assert list(c.columns) == ["group", "level", "effect", "mean", "sd", "q2.5", "q97.5"]
    w = post.draws()
    row = c[(c["group"] == spec["group"]) & (c["level"] == str(spec["seen"])) & (c["effect"] == "(Intercept)")]
    want = w["b_Intercept"] + w[f"r_{spec['group']}[{spec['seen']},Intercept]"]
    assert row["mean"].item() == pytest.approx(want.mean(), rel=1e-9)
    ppc = post.ppc()
    assert len(ppc) == post.info["nobs"]
    assert {"row", "y", "epred_mean", "pred_mean"} <= set(ppc.columns)


def test_compare(posteriors, models, dataset):
    post = posteriors(dataset)
    cmp = post.compare()
    fit = models(dataset).fit()
    s = post.summary()
    assert cmp.index.name == "variable"
    assert list(cmp.columns) == ["ml_estimate", "ml_se", "post_mean", "post_sd", "post_q2.5", "post_q97.5", "diff_sd"]
    assert cmp.loc["b_Intercept", "ml_estimate"] == pytest.approx(fit.fixef.loc["(Intercept)", "Estimate"], rel=1e-9)
    assert cmp.loc["sigma", "ml_estimate"] == pytest.approx(fit.sigma, rel=1e-9)
    for v in cmp.index:
        assert cmp.loc[v, "post_mean"] == pytest.approx(s.loc[v, "mean"], rel=1e-12)
    ranef = cmp.attrs["ranef"]
    assert set(ranef.columns) >= {"group", "effect", "correlation"}
    assert (ranef["correlation"] > 0.9).all()


def test_plot_and_report(posteriors, dataset):
    post = posteriors(dataset)
    assert post.report_path is None
    paths = post.plot()
    assert len(paths) >= 5
    for p in paths:
        assert p.is_file() and p.suffix == ".png"
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any(p.name.startswith("trace_") for p in paths)
    assert post.report_path == post.run_dir / "report.html"
    assert "<html" in post.report_path.read_text()[:500].lower()
    svg = post.plot(vars="^b_", format="svg", report=False)
    assert svg and all(p.suffix == ".svg" for p in svg)


def test_from_dir_reopens_a_package_run(posteriors, dataset):
    post = posteriors(dataset)
    for path in (post.output_dir, post.run_dir, str(post.run_dir)):
        again = lmmbayes.Posterior.from_dir(path)
        assert again.run_dir == post.run_dir
        assert again.config_path == post.output_dir / "model.toml"
        pd.testing.assert_frame_equal(again.summary(), post.summary())
    again = lmmbayes.Posterior.from_dir(post.output_dir)
    new = DATASETS[dataset]["new"]
    pd.testing.assert_frame_equal(again.predict(new, seed=3), post.predict(new, seed=3))
    pd.testing.assert_frame_equal(again.compare(), post.compare())
    with pytest.raises(FileNotFoundError):
        lmmbayes.Posterior.from_dir(post.output_dir / "nope")
    with pytest.raises(FileNotFoundError, match="no run here"):
        lmmbayes.Posterior.from_dir(TESTDATA)


def test_from_dir_reopens_a_cli_run(binary, tmp_path):
    """A run made by `lmmbayes run` from a config: reopened, predicted and
    compared; with its config deleted, predict still works from what
    run.json records."""
    shutil.copy(TESTDATA / "sleepstudy.csv", tmp_path / "sleep.csv")
    cfg = tmp_path / "sleep.toml"
    cfg.write_text(
        '[data]\npath = "sleep.csv"\nfactors = ["Subject"]\n[model]\nformula = "Reaction ~ Days + (Days | Subject)"\n'
        '[sampler]\nchains = 2\nwarmup = 200\ndraws = 200\nseed = 5\n[output]\ndir = "out"\n'
    )
    subprocess.run([binary, "run", str(cfg), "--quiet"], check=True, capture_output=True)
    post = lmmbayes.Posterior.from_dir(tmp_path / "out")
    assert post.config_path == cfg
    assert post.seed == 5
    raw = pd.read_csv(tmp_path / "out" / "summary.csv", index_col="variable")
    pd.testing.assert_frame_equal(post.summary(), raw)
    new = DATASETS["sleepstudy"]["new"]
    p = post.predict(new)
    cmp = post.compare()
    assert cmp.loc["b_Days", "post_mean"] == pytest.approx(raw.loc["b_Days", "mean"], rel=1e-12)
    cfg.unlink()
    post2 = lmmbayes.Posterior.from_dir(tmp_path / "out")
    assert post2.config_path != cfg and post2.config_path.is_file()
    pd.testing.assert_frame_equal(post2.predict(new), p)
    pd.testing.assert_frame_equal(post2.compare(), cmp)
    # The data changed since the run: compare refuses with the binary's message.
    (tmp_path / "sleep.csv").write_text((TESTDATA / "sleepstudy.csv").read_text().replace("249.56", "250.56"))
    with pytest.raises(ValueError, match="the data file changed since the run"):
        post2.compare()


def test_loo(posteriors, binary, dataset):
    post = posteriors(dataset)
    from lmmbayes import _cli

    if "loo" not in _cli.commands(binary):
        with pytest.raises(NotImplementedError, match='no "loo" command'):
            post.loo()
        return
    spec = DATASETS[dataset]
    m = lmmbayes.Model(spec["formula"], read_data(dataset), factors=spec["factors"])
    p = m.sample(progress=False, log_lik=True, **SMALL)
    res = p.loo()
    # The JSON's elpd_loo is the sum of the pointwise table the binary
    # wrote (loo.csv), and its SE sqrt(n) times their SD, as loo computes.
    est = res["models"][0]
    pw = pd.read_csv(est["pointwise_file"])
    assert len(pw) == est["nobs"] == p.info["nobs"]
    assert est["elpd_loo"]["estimate"] == pytest.approx(pw["elpd_loo"].sum(), rel=1e-9)
    assert est["elpd_loo"]["se"] == pytest.approx(np.sqrt(len(pw)) * pw["elpd_loo"].std(ddof=1), rel=1e-9)
    assert est["looic"]["estimate"] == pytest.approx(-2 * est["elpd_loo"]["estimate"], rel=1e-12)


def test_to_arviz(posteriors, dataset):
    pytest.importorskip("arviz")
    idata = posteriors(dataset).to_arviz()
    assert "b_Intercept" in idata.posterior
    assert idata.posterior["b_Intercept"].shape == (2, 200)
    np.testing.assert_array_equal(idata.posterior["b_Intercept"].values.ravel(), posteriors(dataset).draws("b_Intercept")["b_Intercept"].to_numpy())


def test_settings_and_output_dir(models, tmp_path):
    m = models("sleepstudy")
    post = m.sample(chains=1, warmup=100, draws=50, seed=1, thin=2, method="collapsed", random_effects=False, progress=False, output_dir=tmp_path / "a")
    assert post.info["thin"] == 2 and post.info["method"] == "collapsed" and post.info["random_effects"] is False
    assert len(post.draws()) == 50
    assert not any(c.startswith("r_") for c in post.draws().columns)
    # A dir that holds files is refused before anything runs.
    with pytest.raises(ValueError, match="already holds files"):
        m.sample(output_dir=tmp_path / "a", progress=False)
    # A setting the binary does not know: its message, and nothing left.
    with pytest.raises(ValueError, match="no_such_setting"):
        m.sample(output_dir=tmp_path / "b", progress=False, no_such_setting=1)
    assert not (tmp_path / "b").exists()
    # A bad prior: the binary's message, before sampling, nothing left.
    bad = lmmbayes.Model(DATASETS["sleepstudy"]["formula"], read_data("sleepstudy"), factors=["Subject"], priors={"sd": "normal(0,"})
    with pytest.raises(ValueError, match="priors"):
        bad.sample(output_dir=tmp_path / "c", progress=False)
    assert not (tmp_path / "c").exists()
    # A temporary run dir when none is given; priors are used.
    good = lmmbayes.Model(DATASETS["sleepstudy"]["formula"], read_data("sleepstudy"), factors=["Subject"], priors={"b": "normal(0, 1000)", "sd": "student_t(3, 0, 50)"})
    p = good.sample(chains=1, warmup=100, draws=50, seed=1, progress=False)
    assert p.info["priors_given"] == {"b": "normal(0, 1000)", "sd": "student_t(3, 0, 50)"}
    assert p.output_dir.name.startswith("lmmbayes-run-")


def test_sample_warns_about_convergence(models, tmp_path):
    with pytest.warns(lmmbayes.LmmbayesWarning, match="ESS"):
        models("sleepstudy").sample(chains=2, warmup=20, draws=20, seed=1, progress=False, output_dir=tmp_path / "w")
