package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConfigDefaults(t *testing.T) {
	cfg, err := parseConfig([]byte("[data]\npath = \"d.csv\"\n[model]\nformula = \"y ~ x\"\n"), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sampler.Chains != 4 || cfg.Sampler.Warmup != 1000 || cfg.Sampler.Draws != 1000 || cfg.Sampler.Thin != 1 {
		t.Errorf("sampler defaults = %+v", cfg.Sampler)
	}
	if cfg.seedSet {
		t.Error("seedSet without a seed")
	}
	if got := strings.Join(cfg.Data.NA, ","); got != "NA," {
		t.Errorf("NA default = %q", got)
	}
	if !cfg.Output.RandomEffects || cfg.Output.Dir != "lmmbayes_out" {
		t.Errorf("output defaults = %+v", cfg.Output)
	}
}

func TestParseConfigValues(t *testing.T) {
	src := `[data]
path = "d.csv"
factors = ["g"]
[data.reference]
f = "b"
[model]
formula = "y ~ x + (1|g)"
[priors]
b_x = "normal(0, 1)"
[sampler]
chains = 2
seed = 0
`
	cfg, err := parseConfig([]byte(src), "dir/c.toml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sampler.Chains != 2 || !cfg.seedSet || cfg.Sampler.Seed != 0 {
		t.Errorf("sampler = %+v seedSet=%v", cfg.Sampler, cfg.seedSet)
	}
	if cfg.Data.Reference["f"] != "b" || cfg.Priors["b_x"] != "normal(0, 1)" {
		t.Errorf("maps = %v %v", cfg.Data.Reference, cfg.Priors)
	}
	if got := cfg.resolve(cfg.Data.Path); got != filepath.Join("dir", "d.csv") {
		t.Errorf("resolve = %q", got)
	}
	if cfg.lines["sampler.seed"] != 12 || cfg.lines["priors.b_x"] != 9 {
		t.Errorf("lines = %v", cfg.lines)
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"unknown key", "[sampler]\nchians = 4\n", `c.toml:2: unknown key "sampler.chians" (did you mean "sampler.chains"?)`},
		{"unknown section", "[sample]\nchains = 4\n", `c.toml:1: unknown key "sample"`},
		{"wrong type", "[sampler]\nchains = \"four\"\n", `c.toml:2: key "sampler.chains": expected an integer, got a string`},
		{"negative count", "[sampler]\nwarmup = 10\ndraws = -5\n", `c.toml:3: key "sampler.draws" must be positive, got -5`},
		{"zero chains", "[sampler]\nchains = 0\n", `c.toml:2: key "sampler.chains" must be positive, got 0`},
		{"negative warmup", "[sampler]\nwarmup = -1\n", `c.toml:2: key "sampler.warmup" must be zero or positive, got -1`},
		{"negative seed", "[sampler]\nseed = -3\n", `c.toml:2: key "sampler.seed" must be zero or positive, got -3`},
		{"zero thin", "[sampler]\nthin = 0\n", `c.toml:2: key "sampler.thin" must be positive, got 0`},
		{"bad new_levels", "[predict]\nnew_levels = \"drop\"\n", `c.toml:2: key "predict.new_levels" must be "gaussian" or "error", got "drop"`},
		{"syntax", "[sampler]\nchains = = 4\n", `c.toml:2:`},
		{"prior not string", "[priors]\nb = 3\n", `c.toml:2: key "priors.b": expected a string, got an integer`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseConfig([]byte(c.src), "c.toml")
			if err == nil {
				t.Fatalf("no error; want %q", c.want)
			}
			var ie *inputError
			if !errors.As(err, &ie) {
				t.Errorf("not an input error: %v", err)
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error = %q\nwant prefix %q", err.Error(), c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error has several lines: %q", err.Error())
			}
		})
	}
}

func TestShippedConfigsParse(t *testing.T) {
	for _, name := range []string{"sleepstudy.toml", "politeness.toml", "verbagg.toml", "insurance.toml"} {
		path := filepath.Join("..", "..", "configs", name)
		cfg, err := loadConfig(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := os.Stat(cfg.resolve(cfg.Data.Path)); err != nil {
			t.Errorf("%s: data file: %v", name, err)
		}
	}
}

func TestInitTemplateParses(t *testing.T) {
	cfg, err := parseConfig([]byte(initTemplate), "init.toml")
	if err != nil {
		t.Fatalf("init template does not parse: %v", err)
	}
	def := defaultConfig()
	if cfg.Sampler != def.Sampler || cfg.Output != def.Output || cfg.Predict != def.Predict {
		t.Errorf("init template defaults differ from defaultConfig: %+v vs %+v", cfg.Sampler, def.Sampler)
	}
}
