package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// FitResult is an ML or REML fit, with the quantities lme4 reports. It
// marshals to JSON with the keys of lme4's reference files.
type FitResult struct {
	// Formula is the model formula as written.
	Formula string `json:"formula"`
	// REML is true for a REML fit.
	REML bool `json:"reml"`
	// NObs is the number of observations used.
	NObs int `json:"nobs"`
	// Objective is the deviance (ML) or the REML criterion.
	Objective float64 `json:"objective"`
	// LogLik is −Objective/2 (the REML log-likelihood for REML fits).
	LogLik float64 `json:"logLik"`
	// AIC and BIC count p + length(θ) + 1 parameters.
	AIC float64 `json:"AIC"`
	// BIC is the Bayesian information criterion.
	BIC float64 `json:"BIC"`
	// Sigma is the residual standard deviation.
	Sigma float64 `json:"sigma"`
	// Theta is θ̂ in lme4's layout.
	Theta []float64 `json:"theta"`
	// Singular is lme4's isSingular (tolerance 1e-4).
	Singular bool `json:"singular"`
	// Fixef is β̂ in the column order of X.
	Fixef NamedValues `json:"fixef"`
	// FixefSE holds the standard errors of β̂.
	FixefSE NamedValues `json:"fixef_se"`
	// VarCorr lists the variance components as lme4's
	// as.data.frame(VarCorr()) does, Residual last.
	VarCorr []VarCorrRow `json:"varcorr"`
	// Ranef holds the conditional modes of b per grouping factor.
	Ranef GroupedEffects `json:"ranef"`
	// Coef holds fixed plus random coefficients per level, as coef().
	Coef GroupedEffects `json:"coef"`
	// Fitted holds the fitted values Xβ̂ + Zb̂ per used row.
	Fitted []float64 `json:"fitted"`

	// Vcov is the covariance matrix of β̂, σ̂²(R_X)⁻¹(R_X)⁻ᵀ.
	Vcov [][]float64 `json:"-"`
	// Residuals are y − fitted.
	Residuals []float64 `json:"-"`
	// weights are the prior weights (nil: none): the summary's scaled
	// residuals are Pearson residuals √w·r/σ, as lme4's summary shows.
	weights []float64
	// DF is the number of parameters p + length(θ) + 1.
	DF int `json:"-"`
	// NGroups gives the number of levels per grouping factor.
	NGroups []NamedInt `json:"-"`
	// Evals is the number of objective evaluations.
	Evals int `json:"-"`
	// Converged is false if the optimiser hit its evaluation limit.
	Converged bool `json:"-"`
}

// NamedInt is a name with a count.
type NamedInt struct {
	Name string
	N    int
}

// NamedValues is an ordered map from names to numbers; it marshals to a
// JSON object in Names order.
type NamedValues struct {
	Names  []string
	Values []float64
}

// Get returns the value of name and whether it is present.
func (nv NamedValues) Get(name string) (float64, bool) {
	i := slices.Index(nv.Names, name)
	if i < 0 {
		return 0, false
	}
	return nv.Values[i], true
}

// MarshalJSON writes an object with the keys in order.
func (nv NamedValues) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, n := range nv.Names {
		if i > 0 {
			b.WriteByte(',')
		}
		writeKey(&b, n)
		if err := writeJSON(&b, nv.Values[i]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// VarCorrRow is one row of lme4's as.data.frame(VarCorr(fit)): a variance
// (Var2 empty; SDCor the SD) or a covariance (SDCor the correlation).
// Var1 is empty for the Residual row; empty names marshal as null.
type VarCorrRow struct {
	Group string
	Var1  string
	Var2  string
	Vcov  float64
	SDCor float64
}

// MarshalJSON writes {group, var1, var2, vcov, sdcor}.
func (v VarCorrRow) MarshalJSON() ([]byte, error) {
	type row struct {
		Group string   `json:"group"`
		Var1  *string  `json:"var1"`
		Var2  *string  `json:"var2"`
		Vcov  *float64 `json:"vcov"`
		SDCor *float64 `json:"sdcor"`
	}
	o := row{Group: v.Group, Vcov: finite(v.Vcov), SDCor: finite(v.SDCor)}
	if v.Var1 != "" {
		o.Var1 = &v.Var1
	}
	if v.Var2 != "" {
		o.Var2 = &v.Var2
	}
	return json.Marshal(o)
}

// GroupEffects holds, for one grouping factor, a vector per effect over
// the factor's levels.
type GroupEffects struct {
	Group  string
	Levels []string
	Names  []string
	Values [][]float64
}

// GroupedEffects is an ordered map from grouping factor to its effects;
// it marshals as {"g": {"levels": [...], "values": {"eff": [...]}}}.
type GroupedEffects []GroupEffects

// MarshalJSON writes the groups in order.
func (g GroupedEffects) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, ge := range g {
		if i > 0 {
			b.WriteByte(',')
		}
		writeKey(&b, ge.Group)
		b.WriteString(`{"levels":`)
		if err := writeJSON(&b, ge.Levels); err != nil {
			return nil, err
		}
		b.WriteString(`,"values":{`)
		for j, n := range ge.Names {
			if j > 0 {
				b.WriteByte(',')
			}
			writeKey(&b, n)
			if err := writeJSON(&b, ge.Values[j]); err != nil {
				return nil, err
			}
		}
		b.WriteString("}}")
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeKey(b *bytes.Buffer, k string) {
	kb, _ := json.Marshal(k)
	b.Write(kb)
	b.WriteByte(':')
}

func writeJSON(b *bytes.Buffer, v any) error {
	// A NaN or infinite value (a standard error from a Hessian that is not
	// positive definite) is written as null, not an error.
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b.WriteString("null")
			return nil
		}
	case []float64:
		if x == nil {
			b.WriteString("null")
			return nil
		}
		b.WriteByte('[')
		for i, f := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, f); err != nil {
				return err
			}
		}
		b.WriteByte(']')
		return nil
	}
	vb, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b.Write(vb)
	return nil
}

// finite returns &x, or nil (JSON null) for a NaN or infinite x.
func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// quantiles returns min, quartiles (R's type 7) and max of x.
func quantiles(x []float64) [5]float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	q := func(p float64) float64 {
		h := p * float64(len(s)-1)
		lo := math.Floor(h)
		i := int(lo)
		if i+1 >= len(s) {
			return s[len(s)-1]
		}
		return s[i] + (h-lo)*(s[i+1]-s[i])
	}
	return [5]float64{s[0], q(0.25), q(0.5), q(0.75), s[len(s)-1]}
}

// WriteSummary prints the fit laid out like lme4's summary().
func (r *FitResult) WriteSummary(w io.Writer) error {
	var b strings.Builder
	if r.REML {
		b.WriteString("Linear mixed model fit by REML\n")
	} else {
		b.WriteString("Linear mixed model fit by maximum likelihood\n")
	}
	fmt.Fprintf(&b, "Formula: %s\n\n", r.Formula)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	if r.REML {
		fmt.Fprintf(&b, "REML criterion at convergence: %.4g\n\n", r.Objective)
	} else {
		fmt.Fprintln(tw, "AIC\tBIC\tlogLik\tdeviance\tdf.resid\t")
		fmt.Fprintf(tw, "%.1f\t%.1f\t%.1f\t%.1f\t%d\t\n", r.AIC, r.BIC, r.LogLik, r.Objective, r.NObs-r.DF)
		tw.Flush()
		b.WriteString("\n")
	}
	if len(r.Residuals) > 0 {
		sr := make([]float64, len(r.Residuals))
		for i, v := range r.Residuals {
			sr[i] = v / r.Sigma
			if r.weights != nil {
				sr[i] *= math.Sqrt(r.weights[i])
			}
		}
		q := quantiles(sr)
		b.WriteString("Scaled residuals:\n")
		fmt.Fprintln(tw, "Min\t1Q\tMedian\t3Q\tMax\t")
		fmt.Fprintf(tw, "%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t\n", q[0], q[1], q[2], q[3], q[4])
		tw.Flush()
		b.WriteString("\n")
	}
	b.WriteString("Random effects:\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, " Groups\tName\tVariance\tStd.Dev.\tCorr")
	// Group the correlation rows by term.
	for i := 0; i < len(r.VarCorr); i++ {
		v := r.VarCorr[i]
		if v.Var2 != "" {
			continue
		}
		name := v.Var1
		if v.Group == "Residual" {
			name = ""
		}
		g := v.Group
		if i > 0 && r.VarCorr[i-1].Group == v.Group {
			g = ""
		}
		var corr []string
		for _, c := range r.VarCorr {
			if v.Var1 != "" && c.Group == v.Group && c.Var2 == v.Var1 {
				corr = append(corr, fmt.Sprintf("%5.2f", c.SDCor))
			}
		}
		fmt.Fprintf(tw, " %s\t%s\t%.4g\t%.4g\t%s\n", g, name, v.Vcov, v.SDCor, strings.Join(corr, " "))
	}
	tw.Flush()
	fmt.Fprintf(&b, "Number of obs: %d", r.NObs)
	if len(r.NGroups) > 0 {
		b.WriteString(", groups: ")
		for i, g := range r.NGroups {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s, %d", g.Name, g.N)
		}
	}
	b.WriteString("\n\nFixed effects:\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tEstimate\tStd. Error\tt value\t")
	for i, n := range r.Fixef.Names {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.3f\t\n", n, r.Fixef.Values[i], r.FixefSE.Values[i], r.Fixef.Values[i]/r.FixefSE.Values[i])
	}
	tw.Flush()
	if r.Singular {
		b.WriteString("boundary (singular) fit: see help('isSingular')\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteEffects prints a per-level table for each grouping factor of g
// (Ranef or Coef) under the heading title.
func WriteEffects(w io.Writer, title string, g GroupedEffects) error {
	var b strings.Builder
	for _, ge := range g {
		fmt.Fprintf(&b, "%s $%s\n", title, ge.Group)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		for _, n := range ge.Names {
			fmt.Fprintf(tw, "\t%s", n)
		}
		fmt.Fprintln(tw, "\t")
		for l, lev := range ge.Levels {
			fmt.Fprint(tw, lev)
			for j := range ge.Names {
				fmt.Fprintf(tw, "\t%.6g", ge.Values[j][l])
			}
			fmt.Fprintln(tw, "\t")
		}
		tw.Flush()
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
