package model

import "testing"

func TestSuggest(t *testing.T) {
	names := []string{"Reaction", "Days", "Subject"}
	cases := []struct{ in, want string }{
		{"Dys", "Days"},
		{"days", "Days"},
		{"Subjcet", "Subject"},
		{"Reactoin", "Reaction"},
		{"zzz", ""},
		{"Days", ""},
		{"g", ""},
	}
	for _, c := range cases {
		if got := Suggest(c.in, names); got != c.want {
			t.Errorf("Suggest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := Suggest("rnu", []string{"run", "fit"}); got != "run" {
		t.Errorf("Suggest(rnu) = %q", got)
	}
}
