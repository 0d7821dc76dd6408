package draws

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lmmbayes/lmmbayes/model"
)

// loadDesign builds the design of formula on testdata/file.
func loadDesign(t testing.TB, file, formula string, factors ...string) *model.Design {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	fr, err := model.ReadFrame(strings.NewReader(string(raw)), file, model.FrameOptions{Factors: factors})
	if err != nil {
		t.Fatal(err)
	}
	fo, err := model.ParseFormula(formula)
	if err != nil {
		t.Fatal(err)
	}
	d, err := model.Build(fo, fr, model.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}
