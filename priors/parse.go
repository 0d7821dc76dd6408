package priors

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// arg is one parsed argument: a number, or (for inv_wishart) a matrix.
type arg struct {
	text string
	num  float64
	mat  [][]float64 // non-nil for a matrix literal
}

// family describes one prior family for the parser.
type family struct {
	name  string
	args  []string // argument names, for messages
	build func(a []arg) (Prior, error)
}

// families lists every family, in the order of the docs.
func families() []family {
	return []family{
		{"flat", nil, func([]arg) (Prior, error) { return Flat{}, nil }},
		{"normal", []string{"mu", "sigma"}, func(a []arg) (Prior, error) {
			return Normal{Mu: a[0].num, Sigma: a[1].num}, positive("normal", "sigma", a[1].num)
		}},
		{"student_t", []string{"nu", "mu", "sigma"}, func(a []arg) (Prior, error) {
			return StudentT{Nu: a[0].num, Mu: a[1].num, Sigma: a[2].num},
				firstErr(positive("student_t", "nu", a[0].num), positive("student_t", "sigma", a[2].num))
		}},
		{"cauchy", []string{"mu", "sigma"}, func(a []arg) (Prior, error) {
			return Cauchy{Mu: a[0].num, Sigma: a[1].num}, positive("cauchy", "sigma", a[1].num)
		}},
		{"laplace", []string{"mu", "scale"}, func(a []arg) (Prior, error) {
			return Laplace{Mu: a[0].num, Scale: a[1].num}, positive("laplace", "scale", a[1].num)
		}},
		{"horseshoe", []string{"scale"}, func(a []arg) (Prior, error) {
			return Horseshoe{Scale: a[0].num}, positive("horseshoe", "scale", a[0].num)
		}},
		{"exponential", []string{"rate"}, func(a []arg) (Prior, error) {
			return Exponential{Rate: a[0].num}, positive("exponential", "rate", a[0].num)
		}},
		{"inv_gamma", []string{"shape", "scale"}, func(a []arg) (Prior, error) {
			return InvGamma{Shape: a[0].num, Scale: a[1].num},
				firstErr(positive("inv_gamma", "shape", a[0].num), positive("inv_gamma", "scale", a[1].num))
		}},
		{"lkj", []string{"eta"}, func(a []arg) (Prior, error) {
			return LKJ{Eta: a[0].num}, positive("lkj", "eta", a[0].num)
		}},
		{"inv_wishart", []string{"nu", "S"}, buildInvWishart},
	}
}

// positive returns an error unless x > 0.
func positive(fam, name string, x float64) error {
	if x > 0 {
		return nil
	}
	return fmt.Errorf("%s: %s must be positive, got %s", fam, name, fmtNum(x))
}

func buildInvWishart(a []arg) (Prior, error) {
	if err := positive("inv_wishart", "nu", a[0].num); err != nil {
		return nil, err
	}
	w := InvWishart{Nu: a[0].num}
	if a[1].mat == nil {
		if err := positive("inv_wishart", "S", a[1].num); err != nil {
			return nil, err
		}
		w.Scalar = a[1].num
		return w, nil
	}
	rows := a[1].mat
	k := len(rows)
	for i, r := range rows {
		if len(r) != k {
			return nil, fmt.Errorf("inv_wishart: S must be square, but row %d has %d entries and there are %d rows", i+1, len(r), k)
		}
	}
	S := mat.NewSymDense(k, nil)
	for i := range k {
		for j := 0; j <= i; j++ {
			if rows[i][j] != rows[j][i] {
				return nil, fmt.Errorf("inv_wishart: S must be symmetric, but S[%d,%d] = %s and S[%d,%d] = %s",
					i+1, j+1, fmtNum(rows[i][j]), j+1, i+1, fmtNum(rows[j][i]))
			}
			S.SetSym(i, j, rows[i][j])
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(S) {
		return nil, errors.New("inv_wishart: S must be positive definite")
	}
	w.S = S
	if err := w.CheckDim(k); err != nil {
		return nil, err
	}
	return w, nil
}

// FamilyNames returns the names of every prior family.
func FamilyNames() []string {
	fs := families()
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.name
	}
	return out
}

// Parse parses a brms-style prior string such as "normal(0, 10)",
// "student_t(3, 0, 2.5)", "flat", "lkj(2)" or
// "inv_wishart(3, [[1, 0], [0, 1]])". Errors are one line, say what is
// wrong and carry no key or position of a file, so that the caller can
// prefix its own. Parse does not know the class the prior is for: use
// ParseFor, or CheckClass, to check that.
func Parse(s string) (Prior, error) {
	src := strings.TrimSpace(s)
	if src == "" {
		return nil, errors.New("empty prior")
	}
	// Family name.
	n := 0
	for n < len(src) && isNameByte(src[n]) {
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("expected a family name at the start of the prior, got %q", quoteStart(src))
	}
	name := src[:n]
	fam, ok := lookupFamily(name)
	if !ok {
		if sug := suggestFamily(name); sug != "" {
			return nil, fmt.Errorf("unknown prior family %q (did you mean %q?)", name, sug)
		}
		return nil, fmt.Errorf("unknown prior family %q (known: %s)", name, strings.Join(FamilyNames(), ", "))
	}
	rest := strings.TrimLeft(src[n:], " \t")
	var args []arg
	switch {
	case rest == "":
		if len(fam.args) > 0 {
			return nil, fmt.Errorf("%s needs arguments: %s(%s)", name, name, strings.Join(fam.args, ", "))
		}
	case rest[0] != '(':
		return nil, fmt.Errorf("unexpected text after %q: %q", name, rest)
	default:
		end := closing(rest)
		if end < 0 {
			return nil, fmt.Errorf("missing \")\" at the end of %q", src)
		}
		if tail := strings.TrimSpace(rest[end+1:]); tail != "" {
			return nil, fmt.Errorf("unexpected text after the closing \")\": %q", tail)
		}
		inner := rest[1:end]
		var parts []string
		if strings.TrimSpace(inner) != "" {
			parts = splitTop(inner)
		}
		if len(parts) != len(fam.args) {
			if len(fam.args) == 0 {
				return nil, fmt.Errorf("%s takes no arguments, got %d", name, len(parts))
			}
			return nil, fmt.Errorf("%s takes %d %s (%s), got %d", name, len(fam.args),
				plural(len(fam.args), "argument"), strings.Join(fam.args, ", "), len(parts))
		}
		for i, p := range parts {
			a, err := parseArg(strings.TrimSpace(p), name == "inv_wishart" && i == 1)
			if err != nil {
				return nil, fmt.Errorf("%s: argument %d (%s) %v", name, i+1, fam.args[i], err)
			}
			args = append(args, a)
		}
	}
	p, err := fam.build(args)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// ParseFor parses s and checks that the family may be used on class c.
func ParseFor(s string, c Class) (Prior, error) {
	p, err := Parse(s)
	if err != nil {
		return nil, err
	}
	if err := CheckClass(p, c); err != nil {
		return nil, err
	}
	return p, nil
}

func lookupFamily(name string) (family, bool) {
	for _, f := range families() {
		if f.name == name {
			return f, true
		}
	}
	return family{}, false
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func quoteStart(s string) string {
	r := []rune(s)
	if len(r) > 10 {
		return string(r[:10]) + "…"
	}
	return s
}

func plural(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}

// closing returns the index in s (which starts with "(") of the ")" that
// closes it at bracket depth 0, or −1.
func closing(s string) int {
	depth := 0
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
		case ')':
			if depth <= 0 {
				return i
			}
		}
	}
	return -1
}

// splitTop splits s at the commas outside square brackets.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			depth++
		case ']':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// parseArg parses one argument; a matrix literal is accepted only when
// allowMatrix is set. The error completes "argument i (name) ...".
func parseArg(t string, allowMatrix bool) (arg, error) {
	if t == "" {
		return arg{}, errors.New("is empty")
	}
	if allowMatrix && strings.HasPrefix(t, "[") {
		m, ok := parseMatrix(t)
		if !ok {
			return arg{}, fmt.Errorf("is not a number or a matrix [[a, b], [b, c]]: %q", t)
		}
		return arg{text: t, mat: m}, nil
	}
	x, err := parseNumber(t)
	if err != nil {
		return arg{}, err
	}
	return arg{text: t, num: x}, nil
}

// parseNumber parses a decimal number: [+-]digits[.digits][e[+-]digits].
func parseNumber(t string) (float64, error) {
	if !isDecimal(t) {
		return 0, fmt.Errorf("is not a number: %q", t)
	}
	x, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsInf(x, 0) {
		return 0, fmt.Errorf("must be finite, got %q", t)
	}
	return x, nil
}

func isDecimal(t string) bool {
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	digits := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
		digits++
	}
	if i < len(t) && t[i] == '.' {
		i++
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		ed := 0
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
			ed++
		}
		if ed == 0 {
			return false
		}
	}
	return i == len(t)
}

// parseMatrix parses [[a, b], [c, d]] (rows of numbers).
func parseMatrix(t string) ([][]float64, bool) {
	if len(t) < 2 || t[0] != '[' || t[len(t)-1] != ']' {
		return nil, false
	}
	inner := strings.TrimSpace(t[1 : len(t)-1])
	if inner == "" {
		return nil, false
	}
	var rows [][]float64
	for _, r := range splitTop(inner) {
		r = strings.TrimSpace(r)
		if len(r) < 2 || r[0] != '[' || r[len(r)-1] != ']' {
			return nil, false
		}
		cells := strings.Split(r[1:len(r)-1], ",")
		row := make([]float64, len(cells))
		for j, c := range cells {
			c = strings.TrimSpace(c)
			if !isDecimal(c) {
				return nil, false
			}
			x, err := strconv.ParseFloat(c, 64)
			if err != nil || math.IsInf(x, 0) {
				return nil, false
			}
			row[j] = x
		}
		rows = append(rows, row)
	}
	return rows, true
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// suggestFamily returns a family name close to name: by edit distance, or
// one that contains name or is contained in it ("lkj_corr" → "lkj",
// "gamma" → "inv_gamma").
func suggestFamily(name string) string {
	if s := closest(name, FamilyNames()); s != "" {
		return s
	}
	low := strings.ToLower(name)
	for _, f := range FamilyNames() {
		if len(low) >= 3 && (strings.Contains(low, f) || strings.Contains(f, low)) {
			return f
		}
	}
	return ""
}
