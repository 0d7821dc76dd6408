// Package model turns a data frame and an lme4-style formula into the
// matrices of a linear mixed model, and fits that model by maximum
// likelihood or REML on a blocked Cholesky factorisation of the
// mixed-model equations.
//
// The pipeline has small public stages, as lme4's modular interface does:
//
//	frame, _ := model.ReadFrame(r, "data.csv", model.FrameOptions{})
//	f, _ := model.ParseFormula("Reaction ~ Days + (Days | Subject)")
//	d, _ := model.Build(f, frame, model.BuildOptions{})
//	fit, _ := model.Fit(d, model.FitOptions{REML: true})
//
// Every stage returns an error that names the file, line, column or key at
// fault; nothing here panics on bad data.
package model
