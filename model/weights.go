package model

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// This file holds prior weights and offsets. With weights wᵢ and offset
// oᵢ the model is
//
//	yᵢ = oᵢ + xᵢβ + zᵢb + εᵢ,   εᵢ ~ N(0, σ²/wᵢ),
//
// as lmer(..., weights = w, offset = o) fits it. Multiplying row i of
// y − o, X and Z by √wᵢ gives a model with εᵢ ~ N(0, σ²): the working
// design (Design.Working), which the kernel and the sampler use, so that
// every method gets weights and offsets exactly. Its Gaussian density
// differs from the weighted model's by the constant ½Σ log wᵢ.

// Weighted reports whether d has prior weights or an offset.
func (d *Design) Weighted() bool {
	return d != nil && (d.Weights != nil || d.Offset != nil)
}

// LogWeights returns Σ log wᵢ over the used rows (0 without weights).
func (d *Design) LogWeights() float64 {
	var s float64
	for _, w := range d.Weights {
		s += math.Log(w)
	}
	return s
}

// Working returns the design whose rows are those of d times √wᵢ, with
// the offset subtracted from the response first: Y = √w (y − o),
// X = √w X, Z = √w Z. It has no weights and no offset; names, terms and
// levels are d's. Without weights and offset it returns d itself.
func (d *Design) Working() *Design {
	if !d.Weighted() {
		return d
	}
	w := *d
	w.Weights, w.Offset = nil, nil
	n := d.N
	sw := make([]float64, n)
	for i := range sw {
		sw[i] = 1
		if d.Weights != nil {
			sw[i] = math.Sqrt(d.Weights[i])
		}
	}
	w.Y = make([]float64, n)
	for i, y := range d.Y {
		if d.Offset != nil {
			y -= d.Offset[i]
		}
		w.Y[i] = sw[i] * y
	}
	if d.Weights != nil {
		if r, c := d.X.Dims(); r > 0 && c > 0 {
			x := mat.DenseCopyOf(d.X)
			raw := x.RawMatrix()
			for i := range n {
				row := raw.Data[i*raw.Stride : i*raw.Stride+c]
				for j := range row {
					row[j] *= sw[i]
				}
			}
			w.X = x
		}
		w.Terms = make([]*ReTerm, len(d.Terms))
		for t, rt := range d.Terms {
			c := *rt
			c.Z = slices.Clone(rt.Z)
			for e := range c.K {
				z := c.Z[e*n : (e+1)*n]
				for i := range z {
					z[i] *= sw[i]
				}
			}
			w.Terms[t] = &c
		}
	}
	return &w
}

// newDataExtras computes the offset and the weights of new rows fr
// (after deriveColumns): the formula's offset() variables plus the
// offset column, which the new data must have; the weights column when
// fr has it.
func (d *Design) newDataExtras(fr *Frame, nd *NewData) error {
	if len(d.Formula.Offsets) > 0 || d.OffsetColumn != "" {
		nd.Offset = make([]float64, fr.NRows)
		names := make([]string, 0, len(d.Formula.Offsets)+1)
		for _, v := range d.Formula.Offsets {
			names = append(names, v.Name)
		}
		if d.OffsetColumn != "" {
			names = append(names, d.OffsetColumn)
		}
		for _, name := range names {
			v, err := numericColumn(fr, name)
			if err != nil {
				return fmt.Errorf("the offset: %w", err)
			}
			for i, o := range v {
				nd.Offset[i] += o
			}
		}
	}
	if d.WeightsColumn != "" && fr.Column(d.WeightsColumn) != nil {
		v, err := numericColumn(fr, d.WeightsColumn)
		if err != nil {
			return fmt.Errorf("the weights: %w", err)
		}
		for i, w := range v {
			if !(w > 0) || math.IsInf(w, 1) {
				return fmt.Errorf("%s:%d: weights column %q is %s: weights must be finite and > 0", fr.Source, i+2, d.WeightsColumn, rNumber(w))
			}
		}
		nd.Weights = v
	}
	return nil
}
