package suggest

import "testing"

func TestClosest(t *testing.T) {
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
		if got := Closest(c.in, names); got != c.want {
			t.Errorf("Closest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := Closest("rnu", []string{"run", "fit"}); got != "run" {
		t.Errorf("Closest(rnu) = %q", got)
	}
}
