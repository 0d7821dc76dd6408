package plots

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"regexp"
	"strings"
	"testing"
)

// TestWriteHTML checks that the page escapes text, flags warned cells and
// rows, embeds the image as decodable base64 and refers to nothing
// outside itself.
func TestWriteHTML(t *testing.T) {
	var img bytes.Buffer
	if err := Trace(&img, PNG, []Variable{{"b_x", normalDraws(1, 2, 50, 0, 1)}}); err != nil {
		t.Fatal(err)
	}
	r := &Report{
		Title:    "run <1>",
		Meta:     [][2]string{{"Formula", "y ~ x + (1 | g)"}},
		Warnings: []string{"R-hat high"},
		Config:   "[model]\nformula = \"<script>alert(1)</script>\"\n",
		Tables: []*Table{{Title: "Summary", Header: []string{"variable", "rhat"},
			Rows: [][]Cell{{{Text: "b_x"}, {Text: "1.2", Warn: true}}, {{Text: "b_y"}, {Text: "1.0"}}}}},
		Figures: []Figure{{Title: "Trace \"plots\"", Format: PNG, Data: img.Bytes()}},
		Notes:   []string{"no PPC"},
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, r); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script>") {
		t.Error("config text not escaped")
	}
	if regexp.MustCompile(`(?i)(src|href)="(https?:|//)|<link|<script`).MatchString(page) {
		t.Error("page refers outside itself")
	}
	if n := strings.Count(page, `<td class="warn">`); n != 1 {
		t.Errorf("%d warned cells, want 1", n)
	}
	if n := strings.Count(page, `<tr class="warn">`); n != 1 {
		t.Errorf("%d warned rows, want 1", n)
	}
	m := regexp.MustCompile(`<img alt="Trace &#34;plots&#34;" src="data:image/png;base64,([A-Za-z0-9+/=]+)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no embedded image with an escaped alt text")
	}
	raw, err := base64.StdEncoding.DecodeString(m[1])
	if err != nil || !bytes.Equal(raw, img.Bytes()) {
		t.Fatalf("embedded image differs from the drawn one (%v)", err)
	}
	if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
		t.Error(err)
	}
	for _, s := range []string{"run &lt;1&gt;", "R-hat high", "no PPC", "Summary"} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	r.Figures[0].Format = "gif"
	if err := WriteHTML(&b, r); err == nil {
		t.Error("unknown figure format accepted")
	}
}
