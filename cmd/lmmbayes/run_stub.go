package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/lmmbayes/lmmbayes/model"
)

// runFlags are the flags of "run" that override [sampler] and [output].
type runFlags struct {
	model  *modelFlags
	out    *string
	chains *int64
	warmup *int64
	draws  *int64
	thin   *int64
	seed   *int64
	quiet  *bool
	fs     *flagSet
}

func addRunFlags(fs *flagSet) *runFlags {
	return &runFlags{
		model:  addModelFlags(fs),
		out:    fs.String("out", "", "output `dir` (overrides [output] dir)"),
		chains: fs.Int64("chains", 0, "number of `chains` (overrides [sampler] chains)"),
		warmup: fs.Int64("warmup", 0, "warmup `iterations` per chain (overrides [sampler] warmup)"),
		draws:  fs.Int64("draws", 0, "post-warmup `draws` per chain (overrides [sampler] draws)"),
		thin:   fs.Int64("thin", 0, "keep every `k`-th draw (overrides [sampler] thin)"),
		seed:   fs.Int64("seed", 0, "random `seed` (overrides [sampler] seed)"),
		quiet:  fs.Bool("quiet", false, "no progress lines on stderr"),
		fs:     fs,
	}
}

// config loads the config and applies the flags that were given.
func (r *runFlags) config(pos []string) (*config, error) {
	cfg, err := r.model.config(pos)
	if err != nil {
		return nil, err
	}
	set := r.fs.setFlags()
	ints := []struct {
		flag string
		key  string
		dst  *int64
		v    int64
	}{
		{"chains", "sampler.chains", &cfg.Sampler.Chains, *r.chains},
		{"warmup", "sampler.warmup", &cfg.Sampler.Warmup, *r.warmup},
		{"draws", "sampler.draws", &cfg.Sampler.Draws, *r.draws},
		{"thin", "sampler.thin", &cfg.Sampler.Thin, *r.thin},
		{"seed", "sampler.seed", &cfg.Sampler.Seed, *r.seed},
	}
	for _, f := range ints {
		if set[f.flag] {
			*f.dst = f.v
			cfg.flagKeys[f.key] = "--" + f.flag
		}
	}
	if set["seed"] {
		cfg.seedSet = true
	}
	if set["out"] {
		abs, err := absPath(*r.out)
		if err != nil {
			return nil, err
		}
		cfg.Output.Dir = abs
		cfg.flagKeys["output.dir"] = "--out"
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func cmdRun(e *env, args []string) error {
	fs := newFlags("run", "CONFIG [flags]\n\nSamples the posterior of the model that CONFIG describes.", e.stdout)
	rf := addRunFlags(fs)
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	cfg, err := rf.config(pos)
	if err != nil {
		return err
	}
	d, err := buildDesign(cfg)
	if err != nil {
		return err
	}
	describeDesign(e.stdout, d)
	fmt.Fprintln(e.stdout, "\nThe sampler is not built yet: this run stops after building the model.")
	return nil
}

// describeDesign prints the size and structure of a design: rows used and
// dropped, fixed-effect columns, and each random-effect term.
func describeDesign(w io.Writer, d *model.Design) {
	fmt.Fprintf(w, "Formula: %s\n", d.Formula.Text)
	fmt.Fprintf(w, "Observations: %d used", d.N)
	if d.Dropped > 0 {
		fmt.Fprintf(w, ", %d dropped for missing values", d.Dropped)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Fixed effects (%d): %s\n", len(d.XNames), strings.Join(d.XNames, ", "))
	if len(d.Terms) == 0 {
		fmt.Fprintln(w, "Random effects: none")
		return
	}
	fmt.Fprintln(w, "Random effects:")
	for _, t := range d.Terms {
		corr := ""
		if t.K > 1 && t.Correlated {
			corr = ", correlated"
		}
		fmt.Fprintf(w, "  (%s | %s): %d levels × %d effects = %d%s\n",
			strings.Join(t.Names, " + "), t.Group, len(t.Levels), t.K, len(t.Levels)*t.K, corr)
	}
}
