package loo

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lmmbayes/lmmbayes/model"
)

// subsetRows returns the frame's rows for which keep is true.
func subsetRows(fr *model.Frame, keep func(i int) bool) *model.Frame {
	out := &model.Frame{Source: fr.Source}
	var rows []int
	for i := range fr.NRows {
		if keep(i) {
			rows = append(rows, i)
		}
	}
	out.NRows = len(rows)
	for _, c := range fr.Columns {
		nc := &model.Column{Name: c.Name, Categorical: c.Categorical}
		for _, r := range rows {
			if c.Num != nil {
				nc.Num = append(nc.Num, c.Num[r])
			}
			if c.Str != nil {
				nc.Str = append(nc.Str, c.Str[r])
			}
			if c.NA != nil {
				nc.NA = append(nc.NA, c.NA[r])
			}
		}
		out.Columns = append(out.Columns, nc)
	}
	return out
}

// TestHeldOutIdentities: a subject left out of a fit has, under the same
// (β, Σ, σ), the joint density GroupLogLik gives it in the full design (the
// same closed form reached two ways: Woodbury on the training design, a
// dense Cholesky on new data); and a one-row group's joint density is its
// row's density.
func TestHeldOutIdentities(t *testing.T) {
	for _, r := range refRuns[:3] {
		lr := loadRun(t, r)
		d := lr.d
		f, _ := model.ParseFormula(r.formula)
		file, err := os.Open(filepath.Join("..", "testdata", r.data))
		if err != nil {
			t.Fatal(err)
		}
		fr, err := model.ReadFrame(file, r.data, model.FrameOptions{Factors: r.factors})
		file.Close()
		if err != nil {
			t.Fatal(err)
		}
		subj := fr.Column("Subject").Str
		for _, out := range []string{"308", "372"} {
			d2, err := model.Build(f, subsetRows(fr, func(i int) bool { return subj[i] != out }), model.BuildOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, one := range []bool{false, true} {
				first := -1
				nd, err := d2.NewData(subsetRows(fr, func(i int) bool {
					if subj[i] != out || one && first >= 0 && first != i {
						return false
					}
					first = i
					return true
				}))
				if err != nil {
					t.Fatal(err)
				}
				ho, err := NewHeldOut(d2, nd, 0)
				if err != nil {
					t.Fatal(err)
				}
				gl, _ := NewGroupLogLik(d, "Subject")
				lev := -1
				for j, l := range gl.Levels() {
					if l == out {
						lev = j
					}
				}
				full := make([]float64, len(gl.Levels()))
				joint := make([]float64, 1)
				mu, row := make([]float64, nd.N), make([]float64, nd.N)
				for s, pd := range lr.chains[0][:20] {
					pd2 := &model.ParamDraw{Beta: pd.Beta, Cov: pd.Cov, Sigma: pd.Sigma}
					for _, term := range d2.Terms {
						pd2.B = append(pd2.B, make([]float64, len(term.Levels)*term.K))
					}
					if err := ho.JointLogLik(pd2, mu, joint); err != nil {
						t.Fatal(err)
					}
					if err := ho.LogLik(pd2, mu, row); err != nil {
						t.Fatal(err)
					}
					if one {
						if math.Abs(joint[0]-row[0]) > 1e-10*math.Abs(row[0]) {
							t.Errorf("%s one row: joint %.15g, row %.15g", r.name, joint[0], row[0])
						}
						continue
					}
					if err := gl.LogLik(pd, full); err != nil {
						t.Fatal(err)
					}
					if math.Abs(joint[0]-full[lev]) > 1e-10*math.Abs(full[lev]) {
						t.Errorf("%s subject %s draw %d: held-out joint %.15g, group marginal %.15g", r.name, out, s, joint[0], full[lev])
					}
				}
			}
		}
	}
}
