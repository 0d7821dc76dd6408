package posterior

import (
	"encoding/csv"
	"io"
	"strconv"

	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/model"
)

// WritePredictions writes predictions.csv: the new data's columns as
// given (NA for missing), then the summary columns of PredColumns.
func WritePredictions(w io.Writer, fr *model.Frame, pd *Predictions) error {
	cw := csv.NewWriter(w)
	header := fr.ColumnNames()
	cw.Write(append(header, PredColumns...))
	for i := range pd.N {
		rec := make([]string, 0, len(header)+len(PredColumns))
		for _, c := range fr.Columns {
			if c.NA[i] {
				rec = append(rec, "NA")
			} else {
				rec = append(rec, c.Str[i])
			}
		}
		for _, v := range pd.Summary(i).Values() {
			rec = append(rec, formatNum(v))
		}
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// WritePredDraws writes every predictive draw: a header pred_1..pred_M
// (M new rows, in newdata order) and one line per posterior draw, chains
// in order.
func WritePredDraws(w io.Writer, pd *Predictions) error {
	bw := csv.NewWriter(w)
	rec := make([]string, pd.N)
	for i := range rec {
		rec[i] = "pred_" + strconv.Itoa(i+1)
	}
	bw.Write(rec)
	for k := range pd.S {
		for i := range pd.N {
			rec[i] = formatNum(pd.Pred[i*pd.S+k])
		}
		bw.Write(rec)
	}
	bw.Flush()
	return bw.Error()
}

// LevelsIn returns whether the r_ column rc is of a training level that
// some row of nd refers to: with draws.ReadOptions.KeepRE, Read then
// reads only the effects the new data need.
func LevelsIn(nd *model.NewData) func(rc draws.REColumn) bool {
	seen := make([]map[int32]bool, len(nd.Terms))
	for t, nt := range nd.Terms {
		seen[t] = map[int32]bool{}
		for _, r := range nt.Refs {
			seen[t][r] = true
		}
	}
	return func(rc draws.REColumn) bool { return seen[rc.Term][int32(rc.LevelIndex)] }
}

// Replicate returns m replicated data sets y_rep of the training rows
// (yrep[k][i], k < m), simulated from m draws of post spread evenly over
// the chains, seeded by (seed, stream); m is cut to the draws there are.
func Replicate(d *model.Design, post *draws.Draws, m int, seed, stream uint64) ([][]float64, error) {
	sub := post.Spread(m)
	m = sub.NumDraws()
	pd, err := Predict(d, TrainingRows(d, 0, d.N), sub, model.PredictOptions{}, seed, stream)
	if err != nil {
		return nil, err
	}
	yrep := make([][]float64, m)
	for k := range yrep {
		yrep[k] = make([]float64, d.N)
		for i := range d.N {
			yrep[k][i] = pd.Pred[i*m+k]
		}
	}
	return yrep, nil
}
