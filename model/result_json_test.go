package model

import (
	"encoding/json"
	"math"
	"testing"
)

// TestResultJSONNonFinite: a NaN or infinite value (a standard error from
// a Hessian that is not positive definite) marshals as null; finite ones
// as before.
func TestResultJSONNonFinite(t *testing.T) {
	v := struct {
		SE NamedValues    `json:"se"`
		VC []VarCorrRow   `json:"vc"`
		RE GroupedEffects `json:"re"`
	}{
		SE: NamedValues{Names: []string{"a", "b"}, Values: []float64{0.5, math.NaN()}},
		VC: []VarCorrRow{{Group: "g", Var1: "(Intercept)", Vcov: math.Inf(1), SDCor: 2}},
		RE: GroupedEffects{{Group: "g", Levels: []string{"x"}, Names: []string{"(Intercept)"}, Values: [][]float64{{math.NaN()}}}},
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"se":{"a":0.5,"b":null},"vc":[{"group":"g","var1":"(Intercept)","var2":null,"vcov":null,"sdcor":2}],"re":{"g":{"levels":["x"],"values":{"(Intercept)":[null]}}}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}
