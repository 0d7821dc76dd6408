// Package plots draws the diagnostic and posterior plots of an lmmbayes
// run with gonum.org/v1/plot, headless, as PNG or SVG, and writes the
// self-contained HTML report that embeds them.
//
// Every plot function takes plain data (a variable's draws per chain, the
// observed response and replicated draws, interval rows) and writes one
// image to an io.Writer, so that the package knows nothing of run
// directories. Several variables share one page as a grid of at most
// PanelsPerPage panels (three columns); callers split longer lists with
// Pages.
//
// Densities are Gaussian kernel density estimates with Silverman's rule
// of thumb for the bandwidth (R's bw.nrd0): see SilvermanBandwidth and
// KDE. Rank plots follow Vehtari, Gelman, Simpson, Carpenter and Bürkner
// (2021), "Rank-normalization, folding, and localization: an improved R̂
// for assessing convergence of MCMC", Bayesian Analysis 16(2): the draws
// of all chains are ranked together and each chain's ranks are binned;
// see RankCounts. Rootogram draws the hanging rootogram of count data
// (Kleiber and Zeileis 2016, "Visualizing count data regressions using
// rootograms", The American Statistician 70(3)).
package plots
