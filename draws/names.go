package draws

import (
	"strconv"
	"strings"

	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/priors"
)

// brmsRename spells a coefficient, effect or level name as brms does
// (priors.BrmsName: "(Intercept)" → "Intercept", spaces, parentheses,
// brackets, commas and quotes dropped, "+" → "P", "-" → "M", …, ":"
// kept), then replaces any remaining byte outside [A-Za-z0-9_.:] and
// non-ASCII UTF-8 by "_", so that a CSV header never holds a comma, a
// quote or white space.
func brmsRename(s string) string {
	s = priors.BrmsName(s)
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '.', c == ':', c >= 0x80:
		default:
			b[i] = '_'
		}
	}
	return string(b)
}

// REColumn describes one r_ column of the draws.
type REColumn struct {
	// Column is the CSV header ("r_Subject.3.2").
	Column string
	// Summary is the posterior-style name ("r_Subject[310,Days]").
	Summary string
	// Group, Level and Effect name the random effect.
	Group, Level, Effect string
	// Term, LevelIndex and EffectIndex locate it in Design.Terms.
	Term, LevelIndex, EffectIndex int
}

// Names lists the columns of the draws in order: lp__, b, sd, cor,
// sigma, then r (when kept). It is the one place that names the draws'
// columns; Layout maps them back to the parameters of a design.
type Names struct {
	// Columns are all CSV headers in order.
	Columns []string
	// B, SD, Cor are the brms names of the fixed effects, SDs and
	// correlations; Sigma is "sigma".
	B, SD, Cor []string
	// BLabel are the fixed effects' labels without "b_" ("Days").
	BLabel []string
	// SDLabel and CorLabel are the summary labels "sd(Days)",
	// "cor(Intercept,Days)"; SDGroup and CorGroup their groups.
	SDLabel, CorLabel, SDGroup, CorGroup []string
	// RE describes the r_ columns (empty when random effects are not
	// kept).
	RE []REColumn
	// Dispersion is the family's dispersion column: "sigma" (gaussian),
	// "shape" (negbinomial) or "" (bernoulli, binomial, poisson: none).
	Dispersion string
}

// DispersionOf returns the dispersion column of family f, as brms names
// it: "sigma" for the Gaussian, "shape" for the negative binomial, ""
// for the families without one.
func DispersionOf(f model.Family) string {
	switch f {
	case model.Gaussian:
		return "sigma"
	case model.NegBinomial:
		return "shape"
	}
	return ""
}

// ColumnNames returns the draws-file column names for design d, in file
// order (lp__, b, sd, cor, the family's dispersion (sigma; shape for the
// negative binomial; none for the other GLMM families), then the r_
// columns when re is true),
// with the mapping of every r_ column to its term, level and effect.
func ColumnNames(d *model.Design, re bool) *Names {
	n := &Names{Columns: []string{"lp__"}}
	for _, x := range d.XNames {
		n.B = append(n.B, "b_"+brmsRename(x))
		n.BLabel = append(n.BLabel, brmsRename(x))
	}
	for _, t := range d.Terms {
		g := brmsRename(t.Group)
		for _, e := range t.Names {
			n.SD = append(n.SD, "sd_"+g+"__"+brmsRename(e))
			n.SDLabel = append(n.SDLabel, "sd("+brmsRename(e)+")")
			n.SDGroup = append(n.SDGroup, t.Group)
		}
	}
	for _, t := range d.Terms {
		if t.K < 2 || !t.Correlated {
			continue
		}
		g := brmsRename(t.Group)
		for i := 1; i < t.K; i++ {
			for j := 0; j < i; j++ {
				a, b := brmsRename(t.Names[j]), brmsRename(t.Names[i])
				n.Cor = append(n.Cor, "cor_"+g+"__"+a+"__"+b)
				n.CorLabel = append(n.CorLabel, "cor("+a+","+b+")")
				n.CorGroup = append(n.CorGroup, t.Group)
			}
		}
	}
	n.Columns = append(n.Columns, n.B...)
	n.Columns = append(n.Columns, n.SD...)
	n.Columns = append(n.Columns, n.Cor...)
	n.Dispersion = DispersionOf(d.Family)
	if n.Dispersion != "" {
		n.Columns = append(n.Columns, n.Dispersion)
	}
	if re {
		// Effects of terms sharing a grouping factor (from "||") are
		// numbered together, as brms does.
		effBase := map[string]int{}
		for ti, t := range d.Terms {
			g := brmsRename(t.Group)
			base := effBase[t.Group]
			effBase[t.Group] = base + t.K
			for e := range t.K {
				en := brmsRename(t.Names[e])
				for j, lev := range t.Levels {
					c := REColumn{
						Column:  "r_" + g + "." + strconv.Itoa(j+1) + "." + strconv.Itoa(base+e+1),
						Summary: "r_" + g + "[" + brmsRename(lev) + "," + en + "]",
						Group:   t.Group, Level: lev, Effect: t.Names[e],
						Term: ti, LevelIndex: j, EffectIndex: e,
					}
					n.RE = append(n.RE, c)
					n.Columns = append(n.Columns, c.Column)
				}
			}
		}
	}
	return n
}

// IsREColumn reports whether a draws column (or summary name) is a
// random effect's: "r_" followed by the group.
func IsREColumn(name string) bool { return strings.HasPrefix(name, "r_") && len(name) > 2 }

// CheckColumnNames returns an *InputError when two parameters of design d
// get the same name in the draws files or summary.csv: brms's spelling
// and the CSV-safe replacement of other bytes by "_" map, for example,
// the levels "x<1" and "x>1" of a factor both to "x_1". brms refuses such
// a model too ("Internal renaming ... led to duplicated names"); without
// the check, one of the two would hide the other in every summary.
func CheckColumnNames(d *model.Design) error {
	n := ColumnNames(d, true)
	type origin struct{ what, name string }
	seen := map[string]origin{}
	add := func(col string, o origin) error {
		if p, ok := seen[col]; ok {
			return Inputf("%s %q and %s %q both become %q in the draws files and summaries; rename one of them (brms refuses such names too)", p.what, p.name, o.what, o.name, col)
		}
		seen[col] = o
		return nil
	}
	for i, x := range d.XNames {
		if err := add(n.B[i], origin{"fixed effect", x}); err != nil {
			return err
		}
	}
	k := 0
	for _, t := range d.Terms {
		for _, e := range t.Names {
			if err := add(n.SD[k], origin{"the effect of " + t.Group, e}); err != nil {
				return err
			}
			k++
		}
	}
	for i, c := range n.Cor {
		if err := add(c, origin{"correlation", n.CorLabel[i]}); err != nil {
			return err
		}
	}
	for _, c := range n.RE {
		if err := add(c.Summary, origin{"level of " + c.Group, c.Level}); err != nil {
			return err
		}
	}
	return nil
}
