package sampler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
)

// loadDesign builds the design of formula on testdata/<file>.
func loadDesign(t testing.TB, file, formula string, factors ...string) *model.Design {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return designFromCSV(t, file, string(raw), formula, factors...)
}

// designFromCSV builds the design of formula on CSV text named name.
func designFromCSV(t testing.TB, name, csvText, formula string, factors ...string) *model.Design {
	t.Helper()
	fr, err := model.ReadFrame(strings.NewReader(csvText), name, model.FrameOptions{Factors: factors})
	if err != nil {
		t.Fatal(err)
	}
	fo, err := model.ParseFormula(formula)
	if err != nil {
		t.Fatal(err)
	}
	d, err := model.Build(fo, fr, model.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// refSpec is the spec of testdata/REFERENCE.md's Stan runs: fixed
// effects normal(0, 1000), σ and SDs half-t(3, 0, 50), LKJ(2).
func refSpec(d *model.Design) *Spec {
	s := &Spec{Design: d, Sigma: priors.StudentT{Nu: 3, Mu: 0, Sigma: 50}}
	for range d.XNames {
		s.Fixed = append(s.Fixed, priors.Normal{Mu: 0, Sigma: 1000})
	}
	for _, t := range d.Terms {
		var sd []priors.ScalePrior
		for range t.K {
			sd = append(sd, priors.StudentT{Nu: 3, Mu: 0, Sigma: 50})
		}
		s.SD = append(s.SD, sd)
		s.CorEta = append(s.CorEta, 2)
	}
	return s
}
