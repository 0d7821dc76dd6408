package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs lmmbayes with args and returns the exit code, stdout and
// stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{ctx: context.Background(), stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	code := dispatch(e, args)
	return code, out.String(), errb.String()
}

// TestBadInputs checks every bad input of the foundation issue: exit code
// 2, a first line that names the file and line, column or key, and no
// output written.
func TestBadInputs(t *testing.T) {
	good := "Reaction,Days,Subject\n" +
		"249.56,0,308\n258.70,1,308\n250.80,2,308\n" +
		"222.73,0,309\n205.27,1,309\n202.98,2,309\n" +
		"199.05,0,310\n194.33,1,310\n234.32,2,310\n"
	cases := []struct {
		name   string
		csv    string // data file contents ("" for none)
		config string // config body; DATA is replaced by the data path
		args   []string
		want   []string // substrings of the first stderr line
		// command, when set, is the whole command line instead of
		// "run config.toml ARGS" (DATA is replaced by the data path).
		command []string
	}{
		{name: "formula syntax", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (Days | Subject))\"\n",
			want:   []string{"config.toml:4:", "formula: unexpected ')' at column 35"}},
		{name: "formula unknown column", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Dys + (1 | Subject)\"\n",
			want:   []string{"config.toml:4:", `unknown column "Dys" at column 12`, `did you mean "Days"?`}},
		{name: "formula unknown function", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ s(Days, k = 3) + (1 | Subject)\"\n",
			want:   []string{"config.toml:4:", "unknown function s() at column 12"}},
		{name: "formula spline with bad knots", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ ns(Days, knots = c(2, x)) + (1 | Subject)\"\n",
			want:   []string{"config.toml:4:", `argument "knots" of ns() must be numbers at column 29`}},
		{name: "formula function of a bad value", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ log(Days) + (1 | Subject)\"\n",
			want:   []string{"config.toml:4:", "log(Days) is infinite at row 1 (line 2 of ", "log() of 0 at column 12"}},
		{name: "missing data file",
			config: "[data]\npath = \"nope.csv\"\n[model]\nformula = \"y ~ x\"\n",
			want:   []string{"config.toml:2:", "nope.csv", "no such file"}},
		{name: "ragged row", csv: "Reaction,Days,Subject\n1,2,3\n4,5\n",
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n",
			want:   []string{"data.csv:3"}},
		{name: "Inf cell", csv: "Reaction,Days,Subject\n1,2,a\n4,Inf,b\n5,6,c\n",
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n",
			want:   []string{"data.csv:3", `"Days"`, "Inf"}},
		{name: "non-numeric response", csv: "Reaction,Days,Subject\nfast,2,a\nslow,3,b\nfast,5,c\nslow,1,a\n",
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n",
			want:   []string{"data.csv", `"Reaction"`, "numeric"}},
		{name: "forced factor not in header", csv: good,
			config: "[data]\npath = \"DATA\"\nfactors = [\"Subjct\"]\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n",
			want:   []string{"data.csv", `"Subjct"`, `did you mean "Subject"?`}},
		{name: "empty data file", csv: "\n",
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days\"\n",
			want:   []string{"data.csv"}},
		{name: "rank deficient", csv: "y,a,b,g\n1,1,2,p\n2,2,4,p\n3,3,6,q\n4,1,2,q\n5,2,4,r\n",
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"y ~ a + b + (1 | g)\"\nrank_deficient = \"error\"\n",
			want:   []string{"data.csv", `"b"`, "model.rank_deficient"}},
		{name: "rank_deficient not drop or error", csv: "y,a,g\n1,1,p\n2,2,p\n3,3,q\n4,1,q\n5,2,r\n",
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"y ~ a + (1 | g)\"\nrank_deficient = \"warn\"\n",
			want:   []string{"config.toml:5", "model.rank_deficient", `"drop" or "error"`}},
		{name: "zero weight", csv: "y,x,w,g\n1,1,1,p\n2,2,0,p\n3,3,1,q\n4,1,1,q\n5,2,2,r\n",
			config: "[data]\npath = \"DATA\"\nweights = \"w\"\n[model]\nformula = \"y ~ x + (1 | g)\"\n",
			want:   []string{"data.csv", `weights column "w"`, "line 3", "> 0", "drop the row"}},
		{name: "negative weight", csv: "y,x,w,g\n1,1,1,p\n2,2,1,p\n3,3,-1,q\n4,1,1,q\n5,2,2,r\n",
			config: "[data]\npath = \"DATA\"\nweights = \"w\"\n[model]\nformula = \"y ~ x + (1 | g)\"\n",
			want:   []string{"data.csv", `weights column "w"`, "-1", "line 4", "finite and > 0"}},
		{name: "text weights", csv: "y,x,w,g\n1,1,1,p\n2,2,a,p\n3,3,1,q\n4,1,1,q\n5,2,2,r\n",
			config: "[data]\npath = \"DATA\"\nweights = \"w\"\n[model]\nformula = \"y ~ x + (1 | g)\"\n",
			want:   []string{"data.csv", `weights column "w"`, "categorical", "line 3"}},
		{name: "unknown weights column", csv: "y,x,w,g\n1,1,1,p\n2,2,1,p\n3,3,1,q\n4,1,1,q\n5,2,2,r\n",
			config: "[data]\npath = \"DATA\"\nweights = \"ww\"\n[model]\nformula = \"y ~ x + (1 | g)\"\n",
			want:   []string{"data.csv", `weights column "ww"`, `did you mean "w"`}},
		{name: "weights with the Pólya-Gamma sampler", csv: "y,x,w,g\n1,1,1,p\n0,2,1,p\n1,3,1,q\n0,1,1,q\n1,2,2,r\n",
			config: "[data]\npath = \"DATA\"\nweights = \"w\"\n[model]\nformula = \"y ~ x + (1 | g)\"\nfamily = \"bernoulli\"\n[sampler]\nmethod = \"pg\"\n",
			want:   []string{"config.toml:8:", `key "sampler.method" = "pg"`, "takes no prior weights"}},
		{name: "levels whose names collide in the draws", csv: "y,a,g\n1,a,p\n2,x<1,p\n3,x>1,q\n4,a,q\n5,x<1,r\n6,x>1,r\n",
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"y ~ a + (1 | g)\"\n",
			want:   []string{"config.toml:4", `fixed effect "ax<1" and fixed effect "ax>1" both become "b_ax_1"`}},
		{name: "unknown offset column", csv: "y,x,o,g\n1,1,1,p\n2,2,1,p\n3,3,1,q\n4,1,1,q\n5,2,2,r\n",
			config: "[data]\npath = \"DATA\"\noffset = \"off\"\n[model]\nformula = \"y ~ x + (1 | g)\"\n",
			want:   []string{"data.csv", `offset column "off"`}},
		{name: "offset in a random term", csv: "y,x,o,g\n1,1,1,p\n2,2,1,p\n3,3,1,q\n4,1,1,q\n5,2,2,r\n",
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"y ~ x + (offset(o) | g)\"\n",
			want:   []string{"config.toml:4", "offset() cannot be inside a random-effect term at column 10"}},
		{name: "single-level group", csv: "y,x,g\n1,1,p\n2,2,p\n3,3,p\n4,1,p\n",
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"y ~ x + (1 | g)\"\n",
			want:   []string{"data.csv", `"g"`}},
		{name: "as many levels as rows", csv: "y,x,g\n1,1,p\n2,2,q\n3,3,r\n4,1,s\n",
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"y ~ x + (1 | g)\"\n",
			want:   []string{"data.csv", "g"}},
		{name: "unknown reference level", csv: "y,f,g\n1,a,p\n2,b,p\n3,a,q\n4,b,q\n5,a,r\n",
			config: "[data]\npath = \"DATA\"\n[data.reference]\nf = \"c\"\n[model]\nformula = \"y ~ f + (1 | g)\"\n",
			want:   []string{"data.csv", `"f"`, `"c"`}},
		{name: "unknown config key", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n[sampler]\nchians = 2\n",
			want:   []string{"config.toml:6:", `unknown key "sampler.chians"`, `did you mean "sampler.chains"?`}},
		{name: "wrong config type", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n[sampler]\ndraws = \"many\"\n",
			want:   []string{"config.toml:6:", `key "sampler.draws"`, "expected an integer"}},
		{name: "negative count", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n[sampler]\nchains = -2\n",
			want:   []string{"config.toml:6:", `key "sampler.chains" must be positive, got -2`}},
		{name: "negative count flag", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n",
			args:   []string{"--draws", "-5"},
			want:   []string{"--draws:", `key "sampler.draws" must be positive, got -5`}},
		{name: "misspelt prior family", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n[priors]\nb = \"nromal(0, 10)\"\n",
			want:   []string{"config.toml:6:", `"priors.b"`, `did you mean "normal"?`}},
		{name: "prior with wrong number of arguments", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n[priors]\nsigma = \"student_t(3, 0)\"\n",
			want:   []string{"config.toml:6:", `"priors.sigma"`, "3 arguments"}},
		{name: "prior with negative scale", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n[priors]\nsd = \"normal(0, -1)\"\n",
			want:   []string{"config.toml:6:", `"priors.sd"`, "positive"}},
		{name: "prior key naming no parameter", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n[priors]\nb_Dys = \"normal(0, 10)\"\n",
			want:   []string{"config.toml:6:", `"priors.b_Dys"`, `did you mean "b_Days"?`}},
		{name: "prior family on the wrong class", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n[priors]\nsigma = \"lkj(2)\"\n",
			want:   []string{"config.toml:6:", `"priors.sigma"`}},
		{name: "constant response", csv: "y,x,g\n5,1,p\n5,2,p\n5,3,q\n5,1,q\n5,2,r\n",
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"y ~ x + (1 | g)\"\n",
			want:   []string{"data.csv", `response "y" is constant`}},
		{name: "no random-effect term", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days\"\n",
			want:   []string{"config.toml:4:", "no random-effect term"}},
		{name: "no fixed-effect column", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ 0 + (1 | Subject)\"\n",
			want:   []string{"config.toml:4:", "no fixed-effect column"}},
		{name: "response on an extreme scale", csv: "y,x,g\n1e200,1,p\n3e200,2,p\n2e200,3,q\n5e200,1,q\n4e200,2,r\n6e200,3,r\n",
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"y ~ x + (1 | g)\"\n",
			want:   []string{"data.csv", `response "y"`, "rescale"}},
		{name: "response on a tiny scale", csv: "y,x,g\n1e-200,1,p\n3e-200,2,p\n2e-200,3,q\n5e-200,1,q\n4e-200,2,r\n6e-200,3,r\n",
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"y ~ x + (1 | g)\"\n",
			want:   []string{"data.csv", `response "y"`, "rescale"}},
		{name: "prior scale too small", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n[priors]\nb = \"normal(0, 1e-300)\"\n",
			want:   []string{"config.toml:6:", `"priors.b"`, "sigma 1e-300"}},
		{name: "prior far from the data", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n[priors]\nb = \"normal(1e90, 1e-90)\"\n",
			want:   []string{"config.toml:5:", "[priors]", "not finite"}},
		{name: "draws overflow", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n",
			args:   []string{"--draws", "4611686018427387904"},
			want:   []string{"--draws:", `key "sampler.draws"`}},
		{name: "thin overflow", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n",
			args:   []string{"--thin", "9223372036854775807"},
			want:   []string{"--thin:", `key "sampler.thin"`}},
		{name: "empty output dir", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n[output]\ndir = \"\"\n",
			want:   []string{"config.toml:6:", `key "output.dir" is empty`}},
		{name: "output dir holding the config", csv: good,
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"Reaction ~ Days + (1 | Subject)\"\n[output]\ndir = \".\"\n",
			args:   []string{"--force"},
			want:   []string{"config.toml:6:", "holds the config file"}},
		{name: "diagnose of a CSV file that is not CmdStan's", csv: "row,y\n1,2.5\n2,3.1\n3,2.2\n4,2.9\n",
			command: []string{"diagnose", "DATA"},
			want:    []string{"data.csv", "not a CmdStan CSV file", "--any-csv"}},
		{name: "sigma prior on a bernoulli model", csv: "y,x,g\n0,1.5,a\n1,0.2,a\n1,-0.3,b\n0,0.8,b\n1,1.1,c\n0,-1.2,c\n",
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"y ~ x + (1 | g)\"\nfamily = \"bernoulli\"\n[priors]\nsigma = \"student_t(3, 0, 2.5)\"\n",
			want:   []string{"config.toml:7:", `key "priors.sigma"`, "family bernoulli has no residual SD sigma"}},
		{name: "GLMM fixed-effect prior the sampler cannot take", csv: "y,x,g\n0,1.5,a\n1,0.2,a\n1,-0.3,b\n0,0.8,b\n1,1.1,c\n0,-1.2,c\n",
			config: "[data]\npath = \"DATA\"\n[model]\nformula = \"y ~ x + (1 | g)\"\nfamily = \"bernoulli\"\n[priors]\nb = \"horseshoe(1)\"\n",
			want:   []string{"config.toml:7:", `key "priors.b"`, "samplers take flat, normal, student_t, cauchy or laplace priors on fixed effects"}},
		{name: "missing formula", csv: good,
			config: "[data]\npath = \"DATA\"\n",
			want:   []string{"config.toml", `"model.formula" is missing`}},
	}
	var catalogue strings.Builder
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.csv != "" {
				if err := os.WriteFile(filepath.Join(dir, "data.csv"), []byte(c.csv), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfgPath := filepath.Join(dir, "config.toml")
			body := strings.ReplaceAll(c.config, "DATA", "data.csv")
			if c.command == nil {
				if err := os.WriteFile(cfgPath, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := filepath.Join(dir, "out")
			args := append([]string{"run", cfgPath, "--out", out, "--quiet"}, c.args...)
			if strings.Contains(c.config, "[output]") {
				// The case is about the config's output dir.
				args = append([]string{"run", cfgPath, "--quiet"}, c.args...)
			}
			shownCmd := "run config.toml" + strings.Join(append([]string{""}, c.args...), " ")
			if c.command != nil {
				args = nil
				for _, a := range c.command {
					args = append(args, strings.ReplaceAll(a, "DATA", filepath.Join(dir, "data.csv")))
				}
				shownCmd = strings.ReplaceAll(strings.Join(c.command, " "), "DATA", "data.csv")
			}
			code, _, stderr := runCLI(t, args...)
			if code != exitInput {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitInput, stderr)
			}
			first, _, _ := strings.Cut(stderr, "\n")
			shown := strings.ReplaceAll(stderr, dir+string(filepath.Separator), "")
			shown = strings.ReplaceAll(shown, dir, ".")
			fmt.Fprintf(&catalogue, "\n## %s\n", c.name)
			if c.command == nil {
				fmt.Fprintf(&catalogue, "\n```toml\n%s```\n", body)
			}
			if c.csv == good {
				catalogue.WriteString("\n(data.csv: a valid excerpt of sleepstudy)\n")
			} else if c.csv != "" {
				fmt.Fprintf(&catalogue, "\ndata.csv:\n```\n%s```\n", strings.TrimRight(c.csv, "\n")+"\n")
			}
			fmt.Fprintf(&catalogue, "\n```\n$ lmmbayes %s\n%s```\n", shownCmd, shown)
			for _, w := range c.want {
				if !strings.Contains(first, w) {
					t.Errorf("first stderr line %q lacks %q", first, w)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output dir %s was created", out)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) > 2 {
				t.Errorf("files were created beside the inputs: %v", entries)
			}
		})
	}
	checkDoc(t, "errors.md", "# Error catalogue\n\n"+
		"What lmmbayes prints for each bad input it is tested on (exit code 2, nothing written).\n"+
		"Generated by `go test ./cmd/lmmbayes -run TestBadInputs -update-docs`; a test fails when it drifts.\n"+
		catalogue.String())
}

// checkDoc compares docs/name with want, or rewrites it with -update-docs.
func checkDoc(t *testing.T, name, want string) {
	t.Helper()
	path := filepath.Join("..", "..", "docs", name)
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with -update-docs)", err)
	}
	if string(got) != want {
		t.Errorf("docs/%s is out of date; regenerate with go test ./cmd/lmmbayes -update-docs", name)
	}
}

func TestUnknownCommandAndHelp(t *testing.T) {
	code, _, stderr := runCLI(t, "rnu")
	if code != exitInput || !strings.Contains(stderr, `did you mean "run"?`) {
		t.Errorf("unknown command: code %d stderr %q", code, stderr)
	}
	for _, c := range commandNames() {
		if c == "help" {
			continue
		}
		code, out, stderr := runCLI(t, c, "-h")
		if code != exitOK || !strings.Contains(out, "Usage: lmmbayes "+c) {
			t.Errorf("%s -h: code %d stdout %q stderr %q", c, code, out, stderr)
		}
	}
	if code, _, _ := runCLI(t, "run", "--no-such-flag"); code != exitInput {
		t.Errorf("bad flag: exit %d", code)
	}
}
