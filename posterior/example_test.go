package posterior_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/lmmbayes/lmmbayes/draws"
	"github.com/lmmbayes/lmmbayes/model"
	"github.com/lmmbayes/lmmbayes/posterior"
	"github.com/lmmbayes/lmmbayes/priors"
	"github.com/lmmbayes/lmmbayes/sampler"
)

// Example fits Reaction ~ Days + (Days | Subject) to the sleepstudy data
// with the default priors, then takes lme4's coef() of subject 308 and
// the population mean reaction after 10 days from the posterior (lme4's
// coef() gives 253.7 and 19.7 for subject 308).
func Example() {
	f, err := os.Open("../testdata/sleepstudy.csv")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	formula, err := model.ParseFormula("Reaction ~ Days + (Days | Subject)")
	if err != nil {
		log.Fatal(err)
	}
	d, _, _, err := draws.ReadData(f, "sleepstudy.csv", formula,
		model.FrameOptions{Factors: []string{"Subject"}}, model.BuildOptions{})
	if err != nil {
		log.Fatal(err)
	}
	asg, err := priors.Resolve(nil, sampler.ParamSetOf(d), priors.Defaults(d.Y))
	if err != nil {
		log.Fatal(err)
	}
	spec, err := sampler.NewSpec(d, asg, false)
	if err != nil {
		log.Fatal(err)
	}
	res, err := sampler.Run(context.Background(), spec, sampler.Options{
		Chains: 4, Warmup: 1000, Draws: 1000, Seed: 1, RandomEffects: true})
	if err != nil {
		log.Fatal(err)
	}
	post := res.Draws() // or draws.Read(dir, d, draws.ReadOptions{}) for a run dir

	coef, err := posterior.Coef(d, post)
	if err != nil {
		log.Fatal(err)
	}
	for _, c := range coef[:2] {
		fmt.Printf("%s %s %s: %.0f [%.0f, %.0f]\n", c.Group, c.Level, c.Effect, c.Mean, c.Lo, c.Hi)
	}
	lay, err := post.Layout(d)
	if err != nil {
		log.Fatal(err)
	}
	var mean float64
	for s := range post.NumDraws() {
		row := post.Row(s)
		mean += row[lay.Beta(0)] + 10*row[lay.Beta(1)]
	}
	fmt.Printf("population mean at 10 days: %.0f ms\n", mean/float64(post.NumDraws()))
	// Output:
	// Subject 308 (Intercept): 254 [228, 279]
	// Subject 308 Days: 20 [15, 25]
	// population mean at 10 days: 356 ms
}
