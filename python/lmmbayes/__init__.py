"""lmmbayes from Python: lme4-style mixed models, fitted and sampled from pandas.

The package drives the ``lmmbayes`` binary through files, as cmdstanpy
drives CmdStan::

    import lmmbayes
    m = lmmbayes.Model("Reaction ~ Days + (Days | Subject)", df, factors=["Subject"])
    print(m.fit())                  # lme4's lmer(..., REML = FALSE)
    post = m.sample(seed=1)         # lmmbayes run
    post.summary(); post.predict(newdf)

The binary is found through ``$LMMBAYES_BIN``, then ``lmmbayes`` on PATH.
See docs/python.md.
"""

from ._cli import (
    Interrupted,
    LmmbayesError,
    LmmbayesInputError,
    LmmbayesWarning,
    binary_version,
    find_binary,
)
from ._version import __version__
from .model import FitResult, Model
from .posterior import Posterior

__all__ = [
    "Model",
    "FitResult",
    "Posterior",
    "LmmbayesError",
    "LmmbayesInputError",
    "LmmbayesWarning",
    "Interrupted",
    "find_binary",
    "binary_version",
    "__version__",
]
