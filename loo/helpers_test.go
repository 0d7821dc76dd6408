package loo

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/lmmbayes/lmmbayes/diagnostics"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/sampler"
)

// refRun is one of the reference runs in testdata/loo/runs (configs NAME.toml).
type refRun struct {
	name, data, formula, group string
	factors                    []string
}

var refRuns = []refRun{
	{"sleep_int", "sleepstudy.csv", "Reaction ~ Days + (1 | Subject)", "Subject", []string{"Subject"}},
	{"sleep_uncorr", "sleepstudy.csv", "Reaction ~ Days + (Days || Subject)", "Subject", []string{"Subject"}},
	{"sleep_corr", "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject", []string{"Subject"}},
	{"polite_int", "politeness.csv", "frequency ~ attitude + gender + (1 | subject) + (1 | scenario)", "subject", []string{"scenario"}},
	{"polite_slope", "politeness.csv", "frequency ~ attitude + gender + (1 + attitude | subject) + (1 | scenario)", "subject", []string{"scenario"}},
}

// loadedRun is a reference run's design and draws.
type loadedRun struct {
	d      *model.Design
	chains [][]*model.ParamDraw
}

func loadRun(t testing.TB, r refRun) *loadedRun {
	t.Helper()
	f, err := model.ParseFormula(r.formula)
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(filepath.Join("..", "testdata", r.data))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	fr, err := model.ReadFrame(file, r.data, model.FrameOptions{Factors: r.factors})
	if err != nil {
		t.Fatal(err)
	}
	d, err := model.Build(f, fr, model.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "loo", "runs", r.name, "draws_*.csv"))
	dr, err := diagnostics.ReadCmdStan(files...)
	if err != nil {
		t.Fatal(err)
	}
	names := sampler.ColumnNames(d, true)
	lr := &loadedRun{d: d}
	for _, ch := range dr.Chains {
		col := map[string]int{}
		for j, h := range ch.Header {
			col[h] = j
		}
		get := func(row []float64, name string) float64 {
			j, ok := col[name]
			if !ok {
				t.Fatalf("%s: no column %q", r.name, name)
			}
			return row[j]
		}
		var draws []*model.ParamDraw
		for _, row := range ch.Draws {
			pd := &model.ParamDraw{Sigma: get(row, "sigma")}
			for _, b := range names.B {
				pd.Beta = append(pd.Beta, get(row, b))
			}
			sdi, cori := 0, 0
			for _, term := range d.Terms {
				k := term.K
				sd := make([]float64, k)
				for e := range k {
					sd[e] = get(row, names.SD[sdi])
					sdi++
				}
				om := make([]float64, k*k)
				for a := range k {
					om[a*k+a] = 1
				}
				if k > 1 && term.Correlated {
					for a := 1; a < k; a++ {
						for b := 0; b < a; b++ {
							v := get(row, names.Cor[cori])
							cori++
							om[a*k+b], om[b*k+a] = v, v
						}
					}
				}
				cov := make([]float64, k*k)
				for a := range k {
					for b := range k {
						cov[a*k+b] = sd[a] * om[a*k+b] * sd[b]
					}
				}
				pd.Cov = append(pd.Cov, cov)
				pd.B = append(pd.B, make([]float64, len(term.Levels)*k))
			}
			for _, rc := range names.RE {
				pd.B[rc.Term][rc.LevelIndex*d.Terms[rc.Term].K+rc.EffectIndex] = get(row, rc.Column)
			}
			draws = append(draws, pd)
		}
		lr.chains = append(lr.chains, draws)
	}
	return lr
}

// logLikColumns returns the conditional log-likelihood, one slice of S draws
// (chain-major) per observation.
func (lr *loadedRun) logLikColumns(t testing.TB) [][]float64 {
	n := lr.d.N
	S := len(lr.chains) * len(lr.chains[0])
	cols := make([][]float64, n)
	for i := range cols {
		cols[i] = make([]float64, S)
	}
	mu, ll := make([]float64, n), make([]float64, n)
	s := 0
	for _, ch := range lr.chains {
		for _, pd := range ch {
			if err := GaussianLogLik(lr.d, pd, mu, ll); err != nil {
				t.Fatal(err)
			}
			for i, v := range ll {
				cols[i][s] = v
			}
			s++
		}
	}
	return cols
}

// groupLogLikColumns returns the leave-one-group-out log-likelihood by level.
func (lr *loadedRun) groupLogLikColumns(t testing.TB, group string) ([][]float64, []string) {
	g, err := NewGroupLogLik(lr.d, group)
	if err != nil {
		t.Fatal(err)
	}
	G := len(g.Levels())
	S := len(lr.chains) * len(lr.chains[0])
	cols := make([][]float64, G)
	for i := range cols {
		cols[i] = make([]float64, S)
	}
	out := make([]float64, G)
	s := 0
	for _, ch := range lr.chains {
		for _, pd := range ch {
			if err := g.LogLik(pd, out); err != nil {
				t.Fatal(err)
			}
			for i, v := range out {
				cols[i][s] = v
			}
			s++
		}
	}
	return cols, g.Levels()
}

// readRefCSV reads a reference CSV into its header and rows of numbers (a
// non-numeric cell becomes NaN and is returned in text).
func readRefCSV(t testing.TB, name string) ([]string, [][]float64, [][]string) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "loo", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]float64
	for _, rec := range recs[1:] {
		row := make([]float64, len(rec))
		for j, s := range rec {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				if s == "Inf" {
					v = math.Inf(1)
				} else {
					v = math.NaN()
				}
			}
			row[j] = v
		}
		rows = append(rows, row)
	}
	return recs[0], rows, recs[1:]
}

type refEst struct{ Estimate, SE float64 }

type refModel struct {
	S, N         int
	Loo          map[string]refEst `json:"loo"`
	McseLoo      *float64          `json:"mcse_loo"`
	ParetoKTable struct {
		Count      []int      `json:"count"`
		Proportion []float64  `json:"proportion"`
		MinNEff    []*float64 `json:"min_n_eff"`
	} `json:"pareto_k_table"`
	Waic          map[string]refEst `json:"waic"`
	Logo          map[string]refEst `json:"logo"`
	LogoGroup     string            `json:"logo_group"`
	R2Conditional map[string]float64
	R2Marginal    map[string]float64
	LLFirst       []float64 `json:"ll_first"`
	LLLast        []float64 `json:"ll_last"`
}

type refCompare struct {
	Model []string             `json:"model"`
	Table []map[string]float64 `json:"table"`
}

type refFile struct {
	LooVersion string                `json:"loo_version"`
	Models     map[string]*refModel  `json:"models"`
	Compare    map[string]refCompare `json:"compare"`
}

func readRefs(t testing.TB) *refFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "loo", "refs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r refFile
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// relClose reports whether got is within tol of want, relative (with an
// absolute floor of 1e-12 for values at zero, such as the best model's
// elpd_diff).
func relClose(got, want, tol float64) bool {
	if math.IsInf(want, 1) {
		return math.IsInf(got, 1)
	}
	return math.Abs(got-want) <= tol*math.Abs(want)+1e-12
}

func check(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !relClose(got, want, tol) {
		t.Errorf("%s = %.17g, R %.17g (rel. diff %.3g)", what, got, want, math.Abs(got-want)/math.Abs(want))
	}
}
