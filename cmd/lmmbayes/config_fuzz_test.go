package main

import (
	"strings"
	"testing"
)

// FuzzParseConfig checks that no config text makes the loader panic, and
// that every error is one line naming the file.
func FuzzParseConfig(f *testing.F) {
	f.Add(initTemplate)
	f.Add("[data]\npath = \"d.csv\"\n[model]\nformula = \"y ~ x + (1|g)\"\n[sampler]\nchains = 2\nseed = 4\n")
	f.Add("[sampler]\nchains = -1\n")
	f.Add("[sampler]\nchains = 99999999999999999999\n")
	f.Add("[data.reference]\nf = \"a\"\n[priors]\nb = \"normal(0,1)\"\n")
	f.Add("[data]\nweights = \"w\"\noffset = \"o\"\n[model]\nrank_deficient = \"drop\"\n")
	f.Add("[data]\nweights = 1\n[model]\nrank_deficient = \"warn\"\n")
	f.Add("[output]\nrandom_effects = \"yes\"\n")
	f.Add("x = [1, \"a\"]\n[[sampler]]\n")
	f.Add("[predict]\nnew_levels = \"error\"\nre_form = \"NA\"\n")
	f.Fuzz(func(t *testing.T, src string) {
		cfg, err := parseConfig([]byte(src), "f.toml")
		if err != nil {
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Fatalf("error has several lines: %q", msg)
			}
			if !strings.HasPrefix(msg, "f.toml") {
				t.Fatalf("error does not name the file: %q", msg)
			}
			return
		}
		if cfg.Sampler.Chains < 1 || cfg.Sampler.Draws < 1 || cfg.Sampler.Thin < 1 || cfg.Sampler.Warmup < 0 || cfg.Sampler.Seed < 0 {
			t.Fatalf("invalid counts accepted: %+v", cfg.Sampler)
		}
	})
}
