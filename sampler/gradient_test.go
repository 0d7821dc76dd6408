package sampler

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
)

// synthCSV returns seeded data with four numeric predictors and two
// crossed factors g (ng levels) and h (nh levels), every pair met reps
// times.
func synthCSV(seed uint64, ng, nh, reps int) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString("y,x1,x2,x3,g,h\n")
	for i := range ng {
		for j := range nh {
			for range reps {
				x1, x2 := rng.Float64()-0.5, rng.Float64()-0.5
				x3 := x1 * x2
				y := 1 + 0.5*x1 + float64(i%3)*0.3 + float64(j%4)*0.2*x2 + rng.NormFloat64()
				fmt.Fprintf(&b, "%g,%g,%g,%g,g%d,h%d\n", y, x1, x2, x3, i, j)
			}
		}
	}
	return b.String()
}

// TestLogTargetGradient checks logTargetGrad against central differences
// of logTarget on models with 1 × 1 to 4 × 4 covariance terms (crossed,
// nested, uncorrelated), every scale-prior family, normal, flat, scale
// mixture and horseshoe priors on β, and an inverse-Wishart term.
func TestLogTargetGradient(t *testing.T) {
	syn := synthCSV(3, 12, 6, 3)
	type gcase struct {
		name string
		d    *model.Design
		mod  func(s *Spec)
	}
	cases := []gcase{
		{"sleepstudy", loadDesign(t, "sleepstudy.csv", "Reaction ~ Days + (Days | Subject)", "Subject"), nil},
		{"sleepstudy uncorr flat", loadDesign(t, "sleepstudy.csv", "Reaction ~ Days + (Days || Subject)", "Subject"), func(s *Spec) {
			s.Fixed = []priors.Univariate{priors.Flat{}, priors.Flat{}}
			s.Sigma = priors.InvGamma{Shape: 2, Scale: 300}
		}},
		{"politeness three terms", loadDesign(t, "politeness.csv", "frequency ~ attitude + (1|subject) + (1|scenario) + (attitude|scenario:gender)"), func(s *Spec) {
			s.Sigma = priors.Cauchy{Mu: 0, Sigma: 20}
			s.SD[0][0] = priors.Normal{Mu: 0, Sigma: 40}
			s.SD[1][0] = priors.Exponential{Rate: 0.05}
			s.CorEta[2] = 1
			s.Fixed[1] = priors.StudentT{Nu: 4, Mu: 0, Sigma: 30}
		}},
		{"4x4 and 2x2 crossed", designFromCSV(t, "syn.csv", syn, "y ~ x1 + x2 + x3 + (1 + x1 + x2 + x3 | g) + (1 + x1 | h)"), func(s *Spec) {
			s.Sigma = priors.StudentT{Nu: 3, Mu: 0, Sigma: 2.5}
			for i := range s.SD {
				for e := range s.SD[i] {
					s.SD[i][e] = priors.StudentT{Nu: 3, Mu: 0, Sigma: 2.5}
				}
			}
			s.CorEta = []float64{1.5, 3}
			s.Fixed[2] = priors.Horseshoe{Scale: 0.5}
			s.Fixed[3] = priors.Horseshoe{Scale: 0.5}
		}},
		{"inverse-Wishart term", designFromCSV(t, "syn.csv", syn, "y ~ x1 + (1 + x1 | g) + (1 + x2 | h)"), func(s *Spec) {
			s.Cov = []*priors.InvWishart{nil, {Nu: 4, Scalar: 1}}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := refSpec(c.d)
			if c.mod != nil {
				c.mod(spec)
			}
			k, err := model.NewMixedModel(c.d)
			if err != nil {
				t.Fatal(err)
			}
			lay, err := newLayout(c.d, k, spec.Cov)
			if err != nil {
				t.Fatal(err)
			}
			fixed, err := classifyFixed(spec.Fixed, c.d.XNames)
			if err != nil {
				t.Fatal(err)
			}
			ev := newEvaluator(spec, lay, fixed)
			rng := rand.New(rand.NewPCG(7, 7))
			mode, _, err := findMode(&setup{spec: spec, lay: lay, fixed: fixed}, k)
			if err != nil {
				t.Fatal(err)
			}
			grad := make([]float64, lay.dim)
			psi := make([]float64, lay.dim)
			for range 3 {
				for i := range psi {
					psi[i] = mode[i] + 0.4*rng.NormFloat64()
				}
				lp := ev.logTargetGrad(psi, k, grad)
				if want := ev.logTarget(psi, k); lp != want {
					t.Fatalf("logTargetGrad value %g, logTarget %g", lp, want)
				}
				for i := range psi {
					h := 1e-5
					x := psi[i]
					psi[i] = x + h
					fp := ev.logTarget(psi, k)
					psi[i] = x - h
					fm := ev.logTarget(psi, k)
					psi[i] = x
					fd := (fp - fm) / (2 * h)
					if math.Abs(fd-grad[i]) > 1e-5*(1+math.Abs(fd)) {
						t.Errorf("ψ[%d] at %v: gradient %.9g, central difference %.9g", i, psi, grad[i], fd)
					}
				}
				checkSigned(t, ev, k, lay, psi, rng)
			}
		})
	}
}

// checkSigned checks NUTS's signed-SD coordinates at the φ of psi with
// random signs: the wrapped gradient against central differences in φ,
// and that flipping the sign of one τ (with its CPC coordinates) leaves
// the log target unchanged.
func checkSigned(t *testing.T, ev *evaluator, k gradKernel, lay *layout, psi []float64, rng *rand.Rand) {
	t.Helper()
	sg := newSignedSD(lay)
	f := sg.wrap(func(q, g []float64) float64 { return ev.logTargetGrad(q, k, g) })
	phi := make([]float64, lay.dim)
	sg.fromPsi(psi, phi)
	for _, i := range sg.sd {
		if rng.IntN(2) == 0 {
			phi[i] = -phi[i]
		}
	}
	g := make([]float64, lay.dim)
	lp := f(phi, g)
	gs := append([]float64(nil), g...)
	for i := range phi {
		h := 1e-5 * math.Max(1, math.Abs(phi[i]))
		x := phi[i]
		phi[i] = x + h
		fp := f(phi, g)
		phi[i] = x - h
		fm := f(phi, g)
		phi[i] = x
		fd := (fp - fm) / (2 * h)
		if math.Abs(fd-gs[i]) > 1e-5*(1+math.Abs(fd)) {
			t.Errorf("signed φ[%d] at %v: gradient %.9g, central difference %.9g", i, phi, gs[i], fd)
		}
	}
	if len(sg.sd) == 0 {
		return
	}
	// Flip τᵢ and every CPC coordinate of row or column i: the same Σ.
	i := sg.sd[rng.IntN(len(sg.sd))]
	phi[i] = -phi[i]
	for _, c := range sg.cor {
		if c[1] == i || c[2] == i {
			phi[c[0]] = -phi[c[0]]
		}
	}
	if lp2 := f(phi, g); math.Abs(lp2-lp) > 1e-9*(1+math.Abs(lp)) {
		t.Errorf("flipping the sign of φ[%d] changed the log target: %.12g, %.12g", i, lp, lp2)
	}
}
