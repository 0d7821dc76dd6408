# %% [markdown]
# # Voice pitch and politeness, from pandas to the posterior
#
# The politeness data (Winter & Grawunder 2012, from B. Winter's lme4
# tutorial): the pitch (`frequency`, Hz) of 6 speakers in 7 scenarios,
# spoken politely (`pol`) or informally (`inf`). One row has no pitch.
# Run it as a script (`python3 examples/politeness.py [OUTPUT_DIR]`) or
# cell by cell in Jupyter/VS Code (the `# %%` markers). Its output is in
# docs/python.md.

# %%
import sys
import tempfile
from pathlib import Path

import pandas as pd

import lmmbayes

pd.set_option("display.width", 120)
REPO = Path(__file__).resolve().parents[2]
politeness = pd.read_csv(REPO / "testdata" / "politeness.csv")
out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "politeness"
print(politeness.head())

# %% [markdown]
# ## lme4's fit: `lmer(frequency ~ attitude + gender + (1|subject) + (1|scenario), REML = FALSE)`
# `scenario` is numbered, so it is named a factor; `subject`, `gender`
# and `attitude` are strings and become factors by themselves. The row
# without a pitch is dropped, and the binary says so on stderr.

# %%
model = lmmbayes.Model(
    "frequency ~ attitude + gender + (1|subject) + (1|scenario)",
    politeness,
    factors=["scenario"],
    priors={
        "b": "normal(0, 1000)",
        "Intercept": "normal(0, 1000)",
        "sigma": "student_t(3, 0, 50)",
        "sd": "student_t(3, 0, 50)",
    },
)
print("dropped rows:", list(model.dropped_rows))
ml = model.fit(reml=False)
print(ml)  # summary(m)
print(ml.coef["subject"].round(2))  # coef(m)$subject

# %% [markdown]
# ## The posterior: 4 chains × 1000 draws after 1000 warmup

# %%
post = model.sample(chains=4, warmup=1000, draws=1000, seed=20261201, output_dir=out)
print(post.summary().loc[["b_Intercept", "b_attitudepol", "b_genderM", "sd_subject__Intercept", "sd_scenario__Intercept", "sigma"], ["mean", "sd", "q2.5", "q97.5", "rhat", "ess_bulk"]].round(2))

# %% [markdown]
# The posterior beside the ML fit (`diff_sd` = (posterior mean − ML) /
# posterior SD):

# %%
print(post.compare()[["ml_estimate", "post_mean", "post_sd", "diff_sd"]].round(2))

# %% [markdown]
# ## Predictions: a seen speaker and a new one
# `predict(m, newdata)`; F9 is not in the data, so her speaker effect is
# drawn from the population (`new_levels="gaussian"`), which widens the
# interval. `re_form="NA"` gives the population line.

# %%
new = pd.DataFrame({"subject": ["F1", "F9"], "gender": ["F", "F"], "scenario": [1, 1], "attitude": ["pol", "pol"]})
cols = ["subject", "epred_mean", "epred_q2.5", "epred_q97.5", "pred_q2.5", "pred_q97.5"]
print(post.predict(new)[cols].round(1))
print(post.predict(new, re_form="NA")[cols].round(1))

# %% [markdown]
# ## Draws, plots and the report

# %%
draws = post.draws(["b_attitudepol", "sigma"])
print(draws.shape, list(draws.columns))
print("P(polite pitch is lower) =", (draws["b_attitudepol"] < 0).mean())
pngs = post.plot()
print([p.name for p in pngs])
print("report:", post.report_path.name)
again = lmmbayes.Posterior.from_dir(out)
print("reopened:", again.summary().equals(post.summary()))
