package main

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/lmmbayes/lmmbayes/model"
)

// config is a parsed and validated config file. Counts are decoded as
// int64 and checked, because BurntSushi/toml wraps negative numbers into
// unsigned types silently.
type config struct {
	Data    dataConfig        `toml:"data"`
	Model   modelConfig       `toml:"model"`
	Priors  map[string]string `toml:"priors"`
	Sampler samplerConfig     `toml:"sampler"`
	Output  outputConfig      `toml:"output"`
	Predict predictConfig     `toml:"predict"`

	// path is the config file's path ("" when built from flags); relative
	// paths in the file are relative to its directory.
	path string
	// lines maps a dotted key ("sampler.chains") to its line in the file.
	lines map[string]int
	// flagKeys maps a dotted key to the flag that overrode it.
	flagKeys map[string]string
	// seedSet is true when the seed came from the config or a flag.
	seedSet bool
}

// dataConfig is the [data] section.
type dataConfig struct {
	Path      string            `toml:"path"`
	Factors   []string          `toml:"factors"`
	NA        []string          `toml:"na"`
	Reference map[string]string `toml:"reference"`
	// Weights names the column of prior weights (lmer's weights=).
	Weights string `toml:"weights"`
	// Offset names a column added to the linear predictor (lmer's
	// offset=).
	Offset string `toml:"offset"`
}

// modelConfig is the [model] section.
type modelConfig struct {
	Formula string `toml:"formula"`
	// RankDeficient is "drop" (drop aliased fixed-effects columns, as
	// lme4 does) or "error".
	RankDeficient string `toml:"rank_deficient"`
	// Family is the response distribution: "gaussian" (default),
	// "bernoulli", "binomial", "poisson" or "negbinomial".
	Family string `toml:"family"`
}

// samplerConfig is the [sampler] section.
type samplerConfig struct {
	Chains int64 `toml:"chains"`
	Warmup int64 `toml:"warmup"`
	Draws  int64 `toml:"draws"`
	Thin   int64 `toml:"thin"`
	Seed   int64 `toml:"seed"`
	// Method picks the sampler: "auto", "collapsed", "nuts" or "crossed"
	// for the gaussian family; "auto", "pg" (bernoulli and binomial) or
	// "mh" for the others.
	Method string `toml:"method"`
	// ConjugateInvGamma draws variances with an inv_gamma prior by their
	// conjugate Gibbs step instead of the Metropolis block.
	ConjugateInvGamma bool `toml:"conjugate_inv_gamma"`
}

// outputConfig is the [output] section.
type outputConfig struct {
	Dir           string `toml:"dir"`
	RandomEffects bool   `toml:"random_effects"`
	// LogLik writes each chain's pointwise log-likelihood to log_lik_K.csv.
	LogLik bool `toml:"log_lik"`
	Plots  bool `toml:"plots"`
	// MLFit writes ml_fit.json (the ML fit that compare reads).
	MLFit bool `toml:"ml_fit"`
	// PPC writes ppc.csv, ppc_stats.csv and, for the count families,
	// ppc_rootogram.csv (the posterior predictive check of the training
	// rows); false skips the predictive draws.
	PPC bool `toml:"ppc"`
	// MemoryMB bounds the memory, in MiB, that the summaries, ppc, coef
	// and plots hold draws in at once; the draws themselves stream to
	// disk as they are made.
	MemoryMB int64 `toml:"memory_mb"`
}

// predictConfig is the [predict] section.
type predictConfig struct {
	Newdata   string `toml:"newdata"`
	Out       string `toml:"out"`
	ReForm    string `toml:"re_form"`
	NewLevels string `toml:"new_levels"`
}

// defaultConfig returns a config holding every default.
func defaultConfig() *config {
	return &config{
		Data:     dataConfig{NA: []string{"NA", ""}},
		Model:    modelConfig{RankDeficient: "drop"},
		Priors:   map[string]string{},
		Sampler:  samplerConfig{Chains: 4, Warmup: 1000, Draws: 1000, Thin: 1, Method: "auto"},
		Output:   outputConfig{Dir: "lmmbayes_out", RandomEffects: true, MLFit: true, PPC: true, MemoryMB: 1024},
		Predict:  predictConfig{NewLevels: "gaussian"},
		lines:    map[string]int{},
		flagKeys: map[string]string{},
	}
}

// configKeys lists every key a config file may hold, for strict checking
// and suggestions. "priors.*" and "data.reference.*" take any name.
var configKeys = []string{
	"data", "data.path", "data.factors", "data.na", "data.reference", "data.weights", "data.offset",
	"model", "model.formula", "model.family", "model.rank_deficient",
	"priors",
	"sampler", "sampler.chains", "sampler.warmup", "sampler.draws", "sampler.thin", "sampler.seed", "sampler.method", "sampler.conjugate_inv_gamma",
	"output", "output.dir", "output.random_effects", "output.plots", "output.ml_fit", "output.ppc", "output.memory_mb",
	"predict", "predict.newdata", "predict.out", "predict.re_form", "predict.new_levels",
}

// loadConfig reads, decodes and validates the config file at path.
func loadConfig(path string) (*config, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		hint := "give a TOML config file"
		if _, err := os.Stat(filepath.Join(path, "run.json")); err == nil {
			hint = "it is a run directory: give it with --run " + path
		}
		return nil, inputErrorf("config: %s is a directory, not a config file; %s", path, hint)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, inputErrorf("config: %v", err)
	}
	return parseConfig(raw, path)
}

// parseConfig decodes raw TOML read from path, strictly: unknown keys and
// wrong types are errors naming the key and line.
func parseConfig(raw []byte, path string) (*config, error) {
	cfg := defaultConfig()
	cfg.path = path
	cfg.lines = keyLines(raw)
	md, err := toml.Decode(string(raw), cfg)
	if err != nil {
		return nil, cfg.decodeError(err)
	}
	for _, k := range md.Undecoded() {
		key := k.String()
		if strings.HasPrefix(key, "priors.") || strings.HasPrefix(key, "data.reference.") {
			continue
		}
		return nil, inputErrorf("%s: unknown key %q%s", cfg.where(key), key, suggest(key, configKeys))
	}
	cfg.seedSet = md.IsDefined("sampler", "seed")
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

var lastKeyRE = regexp.MustCompile(`last key "([^"]+)"`)
var tomlLineRE = regexp.MustCompile(`line (\d+)`)

// decodeError turns a TOML decoding error into one line naming the file,
// line and key.
func (c *config) decodeError(err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		key := pe.LastKey
		msg := escapeLines(pe.Message)
		if strings.Contains(msg, "incompatible types") || strings.Contains(msg, "out of range") || strings.Contains(msg, "cannot") {
			return inputErrorf("%s:%d: key %q: %s", c.path, pe.Position.Line, key, typeMessage(msg))
		}
		return inputErrorf("%s:%d: %s", c.path, pe.Position.Line, msg)
	}
	msg := escapeLines(err.Error())
	if m := lastKeyRE.FindStringSubmatch(msg); m != nil {
		key := m[1]
		return inputErrorf("%s: key %q: %s", c.where(key), key, typeMessage(msg))
	}
	if m := tomlLineRE.FindStringSubmatch(msg); m != nil {
		return inputErrorf("%s:%s: %s", c.path, m[1], strings.TrimPrefix(msg, "toml: "))
	}
	return inputErrorf("%s: %s", c.path, strings.TrimPrefix(msg, "toml: "))
}

// escapeLines shows line breaks inside a message as \n, so that an error
// stays on one line whatever the input held.
func escapeLines(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}

// typeMessage rewrites BurntSushi/toml's type errors in the user's terms.
func typeMessage(msg string) string {
	if i := strings.Index(msg, "incompatible types: TOML value has type "); i >= 0 {
		rest := msg[i+len("incompatible types: TOML value has type "):]
		parts := strings.SplitN(rest, "; destination has type ", 2)
		if len(parts) == 2 {
			return fmt.Sprintf("expected %s, got %s", goTypeWord(parts[1]), goTypeWord(parts[0]))
		}
	}
	if i := strings.Index(msg, "): "); i >= 0 {
		return msg[i+3:]
	}
	return strings.TrimPrefix(msg, "toml: ")
}

func goTypeWord(t string) string {
	switch {
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return "an integer"
	case strings.HasPrefix(t, "float"):
		return "a number"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "[]") || strings.HasPrefix(t, "slice"):
		return "an array"
	case strings.HasPrefix(t, "map") || strings.HasPrefix(t, "struct"):
		return "a table"
	}
	return t
}

// where returns "file:line" for a dotted key, or just the file when the
// line is unknown.
func (c *config) where(key string) string {
	if f, ok := c.flagKeys[key]; ok {
		return f
	}
	if c.path == "" {
		return "flags"
	}
	if l, ok := c.lines[key]; ok {
		return fmt.Sprintf("%s:%d", c.path, l)
	}
	return c.path
}

// validate checks values that TOML types cannot express.
func (c *config) validate() error {
	for _, p := range []struct {
		key string
		v   int64
		min int64
	}{
		{"sampler.chains", c.Sampler.Chains, 1},
		{"sampler.warmup", c.Sampler.Warmup, 0},
		{"sampler.draws", c.Sampler.Draws, 1},
		{"sampler.thin", c.Sampler.Thin, 1},
		{"sampler.seed", c.Sampler.Seed, 0},
		{"output.memory_mb", c.Output.MemoryMB, 1},
	} {
		if p.v < p.min {
			kind := "positive"
			if p.min == 0 {
				kind = "zero or positive"
			}
			return inputErrorf("%s: key %q must be %s, got %d", c.where(p.key), p.key, kind, p.v)
		}
	}
	if c.Sampler.Chains > 1024 {
		return inputErrorf("%s: key \"sampler.chains\" is %d; at most 1024 chains are allowed", c.where("sampler.chains"), c.Sampler.Chains)
	}
	if err := c.checkSizes(); err != nil {
		return err
	}
	if strings.TrimSpace(c.Output.Dir) == "" {
		return inputErrorf("%s: key \"output.dir\" is empty: name a directory of its own for the run's files (the default is %q)", c.where("output.dir"), defaultConfig().Output.Dir)
	}
	switch c.Sampler.Method {
	case "auto", "collapsed", "nuts", "crossed", "pg", "mh":
	default:
		return inputErrorf("%s: key \"sampler.method\" must be \"auto\", \"collapsed\", \"nuts\" or \"crossed\" (gaussian), \"pg\" or \"mh\" (other families), got %q%s", c.where("sampler.method"), c.Sampler.Method,
			suggest(c.Sampler.Method, []string{"auto", "collapsed", "nuts", "crossed", "pg", "mh"}))
	}
	switch c.Model.RankDeficient {
	case "drop", "error":
	default:
		return inputErrorf("%s: key \"model.rank_deficient\" must be \"drop\" or \"error\", got %q", c.where("model.rank_deficient"), c.Model.RankDeficient)
	}
	if _, err := model.ParseFamily(c.Model.Family); err != nil {
		return inputErrorf("%s: key \"model.family\": %v%s", c.where("model.family"), err,
			suggest(c.Model.Family, []string{"gaussian", "bernoulli", "binomial", "poisson", "negbinomial"}))
	}
	switch c.Predict.NewLevels {
	case "gaussian", "error":
	default:
		return inputErrorf("%s: key \"predict.new_levels\" must be \"gaussian\" or \"error\", got %q", c.where("predict.new_levels"), c.Predict.NewLevels)
	}
	switch c.Predict.ReForm {
	case "", "NA":
	default:
		return inputErrorf("%s: key \"predict.re_form\" must be \"NA\" or absent, got %q", c.where("predict.re_form"), c.Predict.ReForm)
	}
	return nil
}

// resolve returns p relative to the config file's directory (unchanged
// when absolute or when the config came from flags).
func (c *config) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) || c.path == "" {
		return p
	}
	return filepath.Join(filepath.Dir(c.path), p)
}

// ensureSeed picks a random seed when none was given, so that the run
// can record and repeat it.
func (c *config) ensureSeed() {
	if c.seedSet {
		return
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err == nil {
		c.Sampler.Seed = int64(binary.LittleEndian.Uint64(b[:]) >> 1)
	}
	c.seedSet = true
}

var tableRE = regexp.MustCompile(`^\s*\[\s*([A-Za-z0-9_.\-" ]+?)\s*\]\s*(#.*)?$`)
var keyRE = regexp.MustCompile(`^\s*("[^"]*"|[A-Za-z0-9_\-]+(?:\s*\.\s*[A-Za-z0-9_\-]+)*)\s*=`)

// keyLines maps each dotted key of a TOML document to the line it is
// defined on, so that errors found after decoding can name the line.
// It understands tables and plain or dotted keys, which is what configs use.
func keyLines(raw []byte) map[string]int {
	lines := map[string]int{}
	table := ""
	for i, line := range bytes.Split(raw, []byte("\n")) {
		s := string(line)
		if m := tableRE.FindStringSubmatch(s); m != nil && !strings.HasPrefix(strings.TrimSpace(s), "[[") {
			table = strings.ReplaceAll(strings.ReplaceAll(m[1], " ", ""), `"`, "")
			if _, ok := lines[table]; !ok {
				lines[table] = i + 1
			}
			continue
		}
		if m := keyRE.FindStringSubmatch(s); m != nil {
			k := strings.ReplaceAll(strings.Trim(m[1], `"`), " ", "")
			if table != "" {
				k = table + "." + k
			}
			if _, ok := lines[k]; !ok {
				lines[k] = i + 1
			}
		}
	}
	return lines
}

// sortedKeys returns m's keys in sorted order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
