//go:build long

package model

import "testing"

func TestFitInstEvalML(t *testing.T)   { checkAgainstLme4(t, "insteval_ml.json") }
func TestFitInstEvalREML(t *testing.T) { checkAgainstLme4(t, "insteval_reml.json") }
