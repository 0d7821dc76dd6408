"""Fixtures: the repo's data and lme4 references, the binary, and runs
shared by the tests (small: 2 chains × 200 draws after 200 warmup)."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
TESTDATA = REPO / "testdata"


def _ensure_binary():
    """Without LMMBAYES_BIN or lmmbayes on PATH, builds the binary of this
    checkout (scripts/python_ci.sh builds it and sets LMMBAYES_BIN)."""
    if os.environ.get("LMMBAYES_BIN") or shutil.which("lmmbayes"):
        return
    go = shutil.which("go")
    if go is None or not (REPO / "go.mod").is_file():
        return
    out = Path(tempfile.mkdtemp(prefix="lmmbayes-bin-")) / "lmmbayes"
    subprocess.run([go, "build", "-o", str(out), "./cmd/lmmbayes"], cwd=REPO, check=True)
    os.environ["LMMBAYES_BIN"] = str(out)


_ensure_binary()

import lmmbayes  # noqa: E402

# Each dataset: its CSV, the formula and factor columns of the lme4
# references in testdata/lme4, and new rows for predict (one row of a
# seen group, two of a group not seen in training).
DATASETS = {
    "sleepstudy": dict(
        csv="sleepstudy.csv",
        formula="Reaction ~ Days + (Days | Subject)",
        factors=["Subject"],
        group="Subject",
        seen=308,
        new=pd.DataFrame({"Days": [0, 0, 9], "Subject": [308, 999, 999]}, index=["a", "b", "c"]),
    ),
    "politeness": dict(
        csv="politeness.csv",
        formula="frequency ~ attitude + gender + (1|subject) + (1|scenario)",
        factors=["scenario"],
        group="subject",
        seen="F1",
        new=pd.DataFrame(
            {"subject": ["F1", "F9", "F9"], "gender": ["F", "F", "F"], "scenario": [1, 1, 2], "attitude": ["pol", "pol", "inf"]},
            index=[10, 11, 12],
        ),
    ),
}

SMALL = dict(chains=2, warmup=200, draws=200, seed=20261201)


def read_data(name):
    return pd.read_csv(TESTDATA / DATASETS[name]["csv"])


@pytest.fixture(scope="session")
def binary():
    return lmmbayes.find_binary()


@pytest.fixture(scope="session", params=list(DATASETS))
def dataset(request):
    return request.param


@pytest.fixture(scope="session")
def models():
    cache = {}

    def get(name):
        if name not in cache:
            spec = DATASETS[name]
            cache[name] = lmmbayes.Model(spec["formula"], read_data(name), factors=spec["factors"])
        return cache[name]

    return get


@pytest.fixture(scope="session")
def posteriors(models, tmp_path_factory):
    cache = {}

    def get(name):
        if name not in cache:
            out = tmp_path_factory.mktemp("runs") / name
            cache[name] = models(name).sample(output_dir=out, progress=False, **SMALL)
        return cache[name]

    return get
