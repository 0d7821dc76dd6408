package draws

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/lmmbayes/lmmbayes/model"
)

// RunMeta is the content of run.json, the record of a run (and of
// run_K.json, one chain's record in chain mode). It is the one
// definition of that schema: the run writes it, predict, compare, plot
// and the report read it.
type RunMeta struct {
	Version string `json:"lmmbayes_version"`
	Config  string `json:"config,omitempty"`
	Data    string `json:"data"`
	Formula string `json:"formula"`
	NObs    int    `json:"nobs"`
	// DroppedRows is the number of data rows left out for a missing
	// value, DroppedLines the file lines of the first 20 of them.
	DroppedRows  int               `json:"dropped_rows"`
	DroppedLines []int             `json:"dropped_lines"`
	Priors       map[string]string `json:"priors_given"`
	Used         []PriorMeta       `json:"priors"`
	Seed         uint64            `json:"seed"`
	Chains       int               `json:"chains"`
	Warmup       int               `json:"warmup"`
	Draws        int               `json:"draws"`
	Thin         int               `json:"thin"`
	RE           bool              `json:"random_effects"`
	Wall         float64           `json:"wall_seconds"`
	// Method is the sampler that ran and MethodReason why it was chosen.
	Method       string `json:"method"`
	MethodReason string `json:"method_reason"`
	// Incomplete is true when a signal stopped the run early.
	Incomplete bool        `json:"incomplete"`
	PerChain   []ChainMeta `json:"chain_stats"`
	Warnings   []string    `json:"warnings"`
	// DataFile fingerprints the data file the run read. Levels are the
	// factor and grouping-factor levels the design codes rows with, and
	// CategoricalColumns the data columns read as categorical: predict
	// codes new rows with them, without the data file.
	DataFile           *DataFile       `json:"data_file,omitempty"`
	Levels             *model.LevelMap `json:"levels,omitempty"`
	CategoricalColumns []string        `json:"categorical_columns,omitempty"`
}

// DataFile identifies the data file a run was fitted to.
type DataFile struct {
	Path        string `json:"path"`
	Name        string `json:"name"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	RowsRead    int    `json:"rows_read"`
	RowsDropped int    `json:"rows_dropped"`
}

// PriorMeta is one prior as the run resolved it.
type PriorMeta struct {
	Param string `json:"param"`
	Prior string `json:"prior"`
	Key   string `json:"key,omitempty"`
}

// ChainMeta is one chain's statistics. Acceptance rates are null when
// not defined (a proposal never used).
type ChainMeta struct {
	ID         int       `json:"chain_id"`
	Wall       float64   `json:"wall_seconds"`
	AccWarmup  *float64  `json:"accept_warmup"`
	AccRW      *float64  `json:"accept_random_walk"`
	AccIndep   *float64  `json:"accept_independence"`
	AccOverall *float64  `json:"accept_post_warmup"`
	InitialPsi []float64 `json:"init_psi"`
	// NUTS is present when method "nuts" ran (the accept_* figures are
	// then its mean acceptance statistic).
	NUTS *NUTSMeta `json:"nuts,omitempty"`
}

// NUTSMeta is one chain's No-U-Turn statistics, named as Stan's.
type NUTSMeta struct {
	StepSize        float64 `json:"stepsize"`
	Divergent       int     `json:"divergent"`
	DivergentWarmup int     `json:"divergent_warmup"`
	MaxTreeDepth    int     `json:"max_treedepth_hits"`
	MaxDepth        int     `json:"max_treedepth"`
	MeanLeapfrog    float64 `json:"mean_n_leapfrog"`
}

// reMapColumns is the header of random_effects.csv.
var reMapColumns = []string{"column", "summary_name", "group", "level", "effect"}

// WriteREMap writes random_effects.csv, one line per r_ column of names:
// its column, summary name, group, level and effect.
func WriteREMap(w io.Writer, names *Names) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(strings.Join(reMapColumns, ",") + "\n")
	for _, re := range names.RE {
		fmt.Fprintf(bw, "%s,%s,%s,%s,%s\n", re.Column, csvField(re.Summary), csvField(re.Group), csvField(re.Level), csvField(re.Effect))
	}
	return bw.Flush()
}

// csvField quotes s when it needs it.
func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// ReadREMap reads random_effects.csv into a map from draws column to
// its summary name, group, level and effect; a missing file gives an
// empty map (a run without r_ columns writes none).
func ReadREMap(path string) (map[string][]string, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return map[string][]string{}, nil
	}
	if err != nil {
		return nil, Inputf("%v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, Inputf("%s: %v", path, err)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], reMapColumns) {
		return nil, Inputf("%s:1: expected the header %s", path, strings.Join(reMapColumns, ","))
	}
	m := make(map[string][]string, len(recs)-1)
	for _, r := range recs[1:] {
		m[r[0]] = r[1:]
	}
	return m, nil
}
