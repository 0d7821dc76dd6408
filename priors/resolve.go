package priors

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// BrmsName turns an lme4/R coefficient or effect name into brms's
// spelling, as brms's rename(): "(Intercept)" → "Intercept"; spaces,
// parentheses, brackets, commas, quotes and "?" are dropped; "+" → "P",
// "-" → "M", "*" → "MU", "/" → "D", "^" → "E", "=" → "EQ", "$" → "USD".
// brms keeps ":" (b_recipeB:temp).
func BrmsName(s string) string {
	r := strings.NewReplacer(" ", "", "(", "", ")", "", "[", "", "]", "", ",", "", "\"", "", "'", "", "?", "",
		"+", "P", "-", "M", "*", "MU", "/", "D", "^", "E", "=", "EQ", "$", "USD")
	return r.Replace(s)
}

// Term describes one random-effect term (one covariance matrix Σₖ).
type Term struct {
	// Group is the grouping factor ("Subject").
	Group string
	// Effects are the brms-style effect names ("Intercept", "Days").
	Effects []string
	// Correlated is true when the term has a correlation matrix (false for
	// the one-effect terms of "(x || g)").
	Correlated bool
}

// HasCor reports whether the term has a correlation matrix to give a
// prior: it is correlated and has at least two effects.
func (t Term) HasCor() bool { return t.Correlated && len(t.Effects) >= 2 }

// ParamSet lists the parameters of a model that priors attach to.
type ParamSet struct {
	// Fixed are the brms-style fixed-effect names; "Intercept" is the
	// intercept (see BrmsName).
	Fixed []string
	// Terms are the random-effect terms in formula order. Several terms
	// may share a group (as "(1|g) + (0+x|g)").
	Terms []Term
}

// Entry is the prior of one parameter (or one matrix) of the model.
type Entry struct {
	// Param is the brms-style name: "b_Days", "b_Intercept", "sigma",
	// "sd_Subject__Days", "cor_Subject" (the whole correlation matrix),
	// "cov_Subject" (the whole covariance matrix).
	Param string
	// Class is the parameter's class.
	Class Class
	// Prior is the prior.
	Prior Prior
	// Key is the spec key that set the prior, "" for a default.
	Key string
}

// String prints "param ~ prior" with the key that set it, or
// "(default)".
func (e Entry) String() string {
	src := "(default)"
	if e.Key != "" {
		src = "(" + e.Key + ")"
	}
	return fmt.Sprintf("%s ~ %s  %s", e.Param, e.Prior, src)
}

// TermPriors holds the priors of one random-effect term: either SD with
// Cor (nil when the term has no correlation matrix), or Cov alone.
type TermPriors struct {
	// Group is the term's grouping factor.
	Group string
	// SD has one entry per effect; nil when Cov is set.
	SD []Entry
	// Cor is the correlation matrix's prior; nil without one or when Cov
	// is set.
	Cor *Entry
	// Cov is the inverse-Wishart prior on the whole covariance, or nil.
	Cov *Entry
}

// Assignment is the prior of every parameter of a model.
type Assignment struct {
	// Fixed parallels ParamSet.Fixed.
	Fixed []Entry
	// Sigma is the residual SD's prior.
	Sigma Entry
	// Terms parallel ParamSet.Terms.
	Terms []TermPriors
}

// Entries lists every entry: fixed effects, sigma, then each term's SDs,
// correlation or covariance.
func (a *Assignment) Entries() []Entry {
	out := append([]Entry(nil), a.Fixed...)
	out = append(out, a.Sigma)
	for _, t := range a.Terms {
		out = append(out, t.SD...)
		if t.Cor != nil {
			out = append(out, *t.Cor)
		}
		if t.Cov != nil {
			out = append(out, *t.Cov)
		}
	}
	return out
}

// String prints one entry a line.
func (a *Assignment) String() string {
	var b strings.Builder
	for _, e := range a.Entries() {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// DefaultPriors are the priors used for the parameters no key names.
type DefaultPriors struct {
	// Intercept is the intercept's prior.
	Intercept Prior
	// B is the slopes' prior.
	B Prior
	// Sigma is the residual SD's prior.
	Sigma Prior
	// SD is every random-effect SD's prior.
	SD Prior
	// Cor is every correlation matrix's prior.
	Cor Prior
}

// Defaults returns brms 2.x's default priors for a Gaussian model with
// response y (NaN values ignored), as def_scale_prior computes them with
// the identity link:
//
//	Intercept  student_t(3, round(median(y), 1), s)
//	b          flat
//	sigma, sd  student_t(3, 0, s)  (half-t on the SD)
//	cor        lkj(1)
//
// with s = max(2.5, round(mad(y), 1)), mad(y) = 1.4826 · median|y −
// median(y)| (R's mad) and round as R's round(x, 1). When y has no finite
// value the location is 0 and s = 2.5. (brms puts the Intercept prior on
// the intercept of centred predictors.)
func Defaults(y []float64) DefaultPriors {
	var v []float64
	for _, x := range y {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	loc, s := 0.0, 2.5
	if len(v) > 0 {
		med := median(v)
		dev := make([]float64, len(v))
		for i, x := range v {
			dev[i] = math.Abs(x - med)
		}
		mad := 1.4826 * median(dev)
		loc = roundR1(med)
		s = max(2.5, roundR1(mad))
	}
	return DefaultPriors{
		Intercept: StudentT{Nu: 3, Mu: loc, Sigma: s},
		B:         Flat{},
		Sigma:     StudentT{Nu: 3, Mu: 0, Sigma: s},
		SD:        StudentT{Nu: 3, Mu: 0, Sigma: s},
		Cor:       LKJ{Eta: 1},
	}
}

// median is R's median (mean of the two middle values for even n); v is
// sorted in place.
func median(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// roundR1 rounds x to one decimal as R ≥ 4.0's round(x, 1): of the two
// one-decimal candidates around x, the nearer to x as stored; on an exact
// tie, the one with an even last digit.
func roundR1(x float64) float64 {
	lo := math.Floor(x*10) / 10
	hi := math.Ceil(x*10) / 10
	dl, dh := x-lo, hi-x
	switch {
	case dl < dh:
		return lo
	case dh < dl:
		return hi
	}
	if math.Mod(math.Floor(x*10), 2) == 0 {
		return lo
	}
	return hi
}

// KeyError is an error about one key of a prior specification; Key is
// kept so the caller can report the key's file and line.
type KeyError struct {
	// Key is the spec key ("b_Days", "sd_Subject").
	Key string
	// Err says what is wrong, in one line.
	Err error
}

// Error returns "key: message".
func (e *KeyError) Error() string { return e.Key + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *KeyError) Unwrap() error { return e.Err }

// target is what a key applies to.
type target struct {
	class Class
	level int   // 1 class-wide, 2 one group, 3 one parameter
	fixed []int // indices into ParamSet.Fixed
	terms []int // term indices (sd, cor, cov)
	eff   int   // effect index for a single sd key, else −1
	group string
}

// keyTable lists every key valid for ps.
func keyTable(ps ParamSet) map[string]*target {
	keys := map[string]*target{}
	add := func(k string, t *target) {
		if old, ok := keys[k]; ok {
			old.fixed = append(old.fixed, t.fixed...)
			old.terms = append(old.terms, t.terms...)
			return
		}
		keys[k] = t
	}
	for i, f := range ps.Fixed {
		if f == "Intercept" {
			add("Intercept", &target{class: ClassIntercept, level: 3, fixed: []int{i}, eff: -1})
			add("b_Intercept", &target{class: ClassIntercept, level: 3, fixed: []int{i}, eff: -1})
			continue
		}
		add("b", &target{class: ClassB, level: 1, fixed: []int{i}, eff: -1})
		add("b_"+f, &target{class: ClassB, level: 3, fixed: []int{i}, eff: -1})
	}
	add("sigma", &target{class: ClassSigma, level: 3, eff: -1})
	for ti, t := range ps.Terms {
		add("sd", &target{class: ClassSD, level: 1, terms: []int{ti}, eff: -1})
		add("sd_"+t.Group, &target{class: ClassSD, level: 2, terms: []int{ti}, eff: -1, group: t.Group})
		for e, name := range t.Effects {
			add("sd_"+t.Group+"__"+name, &target{class: ClassSD, level: 3, terms: []int{ti}, eff: e, group: t.Group})
		}
		if t.HasCor() {
			add("cor", &target{class: ClassCor, level: 1, terms: []int{ti}, eff: -1})
			add("cor_"+t.Group, &target{class: ClassCor, level: 2, terms: []int{ti}, eff: -1, group: t.Group})
		}
		add("cov", &target{class: ClassCov, level: 1, terms: []int{ti}, eff: -1})
		add("cov_"+t.Group, &target{class: ClassCov, level: 2, terms: []int{ti}, eff: -1, group: t.Group})
	}
	return keys
}

// Resolve assigns a prior to every parameter of ps. spec maps keys to
// prior strings (as Parse reads them):
//
//	b            every fixed-effect slope (not the intercept)
//	b_<name>     one slope; Intercept (or b_Intercept) the intercept
//	sigma        the residual SD
//	sd           every random-effect SD
//	sd_<g>       every SD of group g
//	sd_<g>__<e>  one SD
//	cor          every correlation matrix; cor_<g> those of group g
//	cov          an inv_wishart on every term's whole covariance matrix;
//	             cov_<g> on those of group g
//
// A more specific key overrides a less specific one. A cov key replaces
// the sd and cor priors of the terms it covers: the class-wide sd and cor
// keys then skip them, and an sd_<g>… or cor_<g> key naming such a group
// is an error. Parameters no key names get def. Errors about a key are
// *KeyError (keys are checked in sorted order, the first error is
// returned): a key naming no parameter ("did you mean"), a prior that
// does not parse, a family on the wrong class, an inv_wishart whose
// dimension does not fit.
func Resolve(spec map[string]string, ps ParamSet, def DefaultPriors) (*Assignment, error) {
	if err := checkNames(ps); err != nil {
		return nil, err
	}
	table := keyTable(ps)
	valid := make([]string, 0, len(table))
	for k := range table {
		valid = append(valid, k)
	}
	sort.Strings(valid)
	keys := make([]string, 0, len(spec))
	for k := range spec {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	parsed := map[string]Prior{}
	for _, k := range keys {
		t, ok := table[k]
		if !ok {
			msg := fmt.Sprintf("no parameter or class %q in this model", k)
			if s := closest(k, valid); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += fmt.Sprintf(" (keys: %s)", strings.Join(valid, ", "))
			}
			return nil, &KeyError{Key: k, Err: errors.New(msg)}
		}
		p, err := ParseFor(spec[k], t.class)
		if err != nil {
			return nil, &KeyError{Key: k, Err: err}
		}
		if w, ok := p.(InvWishart); ok {
			for _, ti := range t.terms {
				if err := w.CheckDim(len(ps.Terms[ti].Effects)); err != nil {
					return nil, &KeyError{Key: k, Err: fmt.Errorf("%v (group %s)", err, ps.Terms[ti].Group)}
				}
			}
		}
		parsed[k] = p
	}
	if _, a := parsed["Intercept"]; a {
		if _, b := parsed["b_Intercept"]; b {
			return nil, &KeyError{Key: "b_Intercept", Err: errors.New("the intercept's prior is also set by key Intercept; give only one")}
		}
	}

	// best[k] chooses, for each slot, the most specific key.
	type choice struct {
		key   string
		level int
	}
	pick := func(cur choice, key string, level int) choice {
		if level > cur.level {
			return choice{key, level}
		}
		return cur
	}
	fixed := make([]choice, len(ps.Fixed))
	var sigma choice
	sds := make([][]choice, len(ps.Terms))
	cors := make([]choice, len(ps.Terms))
	covs := make([]choice, len(ps.Terms))
	for ti, t := range ps.Terms {
		sds[ti] = make([]choice, len(t.Effects))
	}
	for _, k := range keys {
		t := table[k]
		switch t.class {
		case ClassB, ClassIntercept:
			for _, i := range t.fixed {
				fixed[i] = pick(fixed[i], k, t.level)
			}
		case ClassSigma:
			sigma = pick(sigma, k, t.level)
		case ClassSD:
			for _, ti := range t.terms {
				for e := range sds[ti] {
					if t.eff < 0 || t.eff == e {
						sds[ti][e] = pick(sds[ti][e], k, t.level)
					}
				}
			}
		case ClassCor:
			for _, ti := range t.terms {
				cors[ti] = pick(cors[ti], k, t.level)
			}
		case ClassCov:
			for _, ti := range t.terms {
				covs[ti] = pick(covs[ti], k, t.level)
			}
		}
	}

	a := &Assignment{}
	for i, f := range ps.Fixed {
		e := Entry{Param: "b_" + f, Class: ClassB, Prior: def.B}
		if f == "Intercept" {
			e.Class, e.Prior = ClassIntercept, def.Intercept
		}
		if c := fixed[i]; c.key != "" {
			e.Prior, e.Key = parsed[c.key], c.key
		}
		a.Fixed = append(a.Fixed, e)
	}
	a.Sigma = Entry{Param: "sigma", Class: ClassSigma, Prior: def.Sigma}
	if sigma.key != "" {
		a.Sigma.Prior, a.Sigma.Key = parsed[sigma.key], sigma.key
	}
	for ti, t := range ps.Terms {
		tp := TermPriors{Group: t.Group}
		if c := covs[ti]; c.key != "" {
			// A cov key replaces sd and cor; a key naming this group's sd or
			// cor is a conflict.
			for _, e := range sds[ti] {
				if e.level >= 2 {
					return nil, &KeyError{Key: e.key, Err: fmt.Errorf("conflicts with key %s, which sets the whole covariance of group %s", c.key, t.Group)}
				}
			}
			if cors[ti].level >= 2 {
				return nil, &KeyError{Key: cors[ti].key, Err: fmt.Errorf("conflicts with key %s, which sets the whole covariance of group %s", c.key, t.Group)}
			}
			tp.Cov = &Entry{Param: "cov_" + t.Group, Class: ClassCov, Prior: parsed[c.key], Key: c.key}
			a.Terms = append(a.Terms, tp)
			continue
		}
		for e, name := range t.Effects {
			en := Entry{Param: "sd_" + t.Group + "__" + name, Class: ClassSD, Prior: def.SD}
			if c := sds[ti][e]; c.key != "" {
				en.Prior, en.Key = parsed[c.key], c.key
			}
			tp.SD = append(tp.SD, en)
		}
		if t.HasCor() {
			en := Entry{Param: "cor_" + t.Group, Class: ClassCor, Prior: def.Cor}
			if c := cors[ti]; c.key != "" {
				en.Prior, en.Key = parsed[c.key], c.key
			}
			tp.Cor = &en
		}
		a.Terms = append(a.Terms, tp)
	}
	for _, e := range a.Entries() {
		if e.Prior == nil {
			return nil, fmt.Errorf("no default prior for %s (DefaultPriors field unset)", e.Param)
		}
		if err := CheckClass(e.Prior, e.Class); err != nil {
			return nil, fmt.Errorf("default prior for %s: %w", e.Param, err)
		}
	}
	return a, nil
}

// checkNames rejects a ParamSet whose parameter names repeat.
func checkNames(ps ParamSet) error {
	seen := map[string]bool{}
	for _, f := range ps.Fixed {
		n := "b_" + f
		if seen[n] {
			return fmt.Errorf("duplicate parameter name %q", n)
		}
		seen[n] = true
	}
	for _, t := range ps.Terms {
		for _, e := range t.Effects {
			n := "sd_" + t.Group + "__" + e
			if seen[n] {
				return fmt.Errorf("duplicate parameter name %q", n)
			}
			seen[n] = true
		}
	}
	return nil
}
