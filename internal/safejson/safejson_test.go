package safejson

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

type inner struct {
	SE  []float64 `json:"se"`
	Opt string    `json:"opt,omitempty"`
}

type outer struct {
	*inner
	Name   string             `json:"name"`
	Dev    float64            `json:"deviance"`
	Hidden float64            `json:"-"`
	M      map[string]float64 `json:"m,omitempty"`
	P      *float64           `json:"p"`
}

// TestEncodeMatchesJSON: without non-finite floats the bytes are
// encoding/json's; with them, those entries are null and the rest is
// what encoding/json writes (same order, tags honoured).
func TestEncodeMatchesJSON(t *testing.T) {
	p := 2.5
	v := outer{inner: &inner{SE: []float64{0.1, 0.2}}, Name: "a", Dev: 3, Hidden: 7, P: &p}
	var got, want bytes.Buffer
	if err := Encode(&got, v, "  "); err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Fatalf("finite: got\n%s\nwant\n%s", got.String(), want.String())
	}
	v.SE[1] = math.NaN()
	v.Dev = math.Inf(1)
	v.M = map[string]float64{"x": math.NaN()}
	got.Reset()
	if err := Encode(&got, v, ""); err != nil {
		t.Fatal(err)
	}
	const exp = `{"se":[0.1,null],"name":"a","deviance":null,"m":{"x":null},"p":2.5}` + "\n"
	if got.String() != exp {
		t.Fatalf("non-finite: got %s want %s", got.String(), exp)
	}
}
