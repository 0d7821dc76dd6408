package model

import "gonum.org/v1/gonum/mat"

// Frame is a table of columns read from a CSV file.
type Frame struct {
	// Source names where the data came from (a file path), for errors.
	Source string
	// Columns in file order.
	Columns []*Column
	// NRows is the number of data rows (the header excluded).
	NRows int
}

// Column is one column of a Frame. A numeric column holds Num; a
// categorical column holds Str. NA marks missing cells in either kind.
type Column struct {
	// Name is the header cell.
	Name string
	// Categorical is true for a column read as text or forced to be a
	// factor.
	Categorical bool
	// Num holds the values of a numeric column (NaN where NA).
	Num []float64
	// Str holds the raw cell text of every column, numeric ones included,
	// so that a numeric column can serve as a grouping factor.
	Str []string
	// NA is true where the cell was one of the NA tokens.
	NA []bool

	// mat holds the columns of a matrix variable (poly()), derived from
	// a formula; Num is then its first column.
	mat [][]float64
}

// FrameOptions control how ReadFrame interprets a CSV file.
type FrameOptions struct {
	// Factors names columns to read as categorical even when every cell
	// is a number.
	Factors []string
	// NA lists the cell values that mean "missing"; nil means
	// {"NA", ""}.
	NA []string
}

// BuildOptions control how Build turns a formula and a frame into a
// Design.
type BuildOptions struct {
	// Reference maps a factor column to the level used as the reference
	// (baseline) level of its treatment contrasts; by default the first
	// level in R's sorted order.
	Reference map[string]string
	// Weights names a numeric column of prior weights wᵢ: the residual
	// variance of row i is σ²/wᵢ, as lmer's weights= argument makes it.
	// Every used weight must be finite and > 0; a row with NA there is
	// dropped. "" means all weights 1.
	Weights string
	// Offset names a numeric column added to the linear predictor with
	// coefficient 1, as lmer's offset= argument (it adds to the formula's
	// offset() terms). "" means none.
	Offset string
	// DropRankDeficient drops the fixed-effects columns that are linear
	// combinations of the columns before them, as lme4 does, and lists
	// them in Design.Aliased; when false such columns are an error.
	DropRankDeficient bool
	// Family is the response distribution (Gaussian by default); it
	// decides which responses are valid (see Design.Family).
	Family Family
}

// Design holds the matrices of a linear mixed model
// y = Xβ + Σₖ Zₖbₖ + ε built from a formula and a frame.
type Design struct {
	// Formula is the formula the design was built from.
	Formula *Formula
	// N is the number of rows used (rows with NA in a used column are
	// dropped).
	N int
	// Rows gives, for each used row, its 0-based index among the frame's
	// data rows.
	Rows []int
	// Dropped is the number of frame rows dropped for NA.
	Dropped int
	// Y is the response, length N.
	Y []float64
	// X is the N × P fixed-effects matrix.
	X *mat.Dense
	// XNames are the column names of X as lme4 names them
	// ("(Intercept)", "Days", "attitudepol", "recipeB:temp").
	XNames []string
	// Terms are the random-effect terms in formula order (after "||" and
	// "/" expansion).
	Terms []*ReTerm
	// Family is the response distribution; for Bernoulli and Binomial Y
	// counts successes, for Poisson and NegBinomial Y is a count.
	Family Family
	// Trials holds the number of trials of each row (Binomial only).
	Trials []float64
	// YLevels are the two levels of a categorical Bernoulli or Binomial
	// response (failure first), nil otherwise.
	YLevels []string

	// Weights holds the prior weights of the used rows (nil: all 1);
	// the residual variance of row i is σ²/Weights[i].
	Weights []float64
	// Offset holds the offset of the used rows, the sum of the formula's
	// offset() terms and the offset column (nil: none). The linear
	// predictor is Offset + Xβ + Zb.
	Offset []float64
	// Aliased names the fixed-effects columns dropped because they are
	// linear combinations of the columns before them (lme4's
	// "fixed-effect model matrix is rank deficient so dropping ...").
	Aliased []string
	// WeightsColumn and OffsetColumn are BuildOptions.Weights and
	// BuildOptions.Offset.
	WeightsColumn, OffsetColumn string

	// fixed records how each fixed-effects column was made, so that the
	// same construction can be applied to new data.
	fixed *fixedSpec
	// transforms are what the formula's functions learned from the
	// training data, by variable name, for new data.
	transforms []*Transform
}

// ReTerm is one random-effect term of a Design: for each row, the level
// of its grouping factor and the values of its K effect columns.
type ReTerm struct {
	// Group is the grouping factor's name ("Subject", "a:b").
	Group string
	// Levels are the grouping factor's levels in R's sorted order; only
	// levels present in the used rows appear.
	Levels []string
	// Refs gives, for each of the N rows, the index of its level.
	Refs []int32
	// Names are the K effect names ("(Intercept)", "Days").
	Names []string
	// K is the number of effects per level.
	K int
	// Z holds the effect values row-major as K × N: Z[e*N+i] is effect e
	// at row i. The model matrix of the term is never stored densely.
	Z []float64
	// Correlated is false for terms from "(x || g)" splitting.
	Correlated bool

	// spec records how the effect columns were made, for new data.
	spec *fixedSpec
}

// NewData is a design for rows not used in fitting, built by
// Design.NewData with the training design's columns, levels and
// contrasts.
type NewData struct {
	// N is the number of new rows.
	N int
	// X is the N × P fixed-effects matrix with the training columns.
	X *mat.Dense
	// Y is the response where the new data has it (nil otherwise).
	Y []float64
	// Trials holds a binomial model's trials of each row when the new
	// data hold the columns of its cbind(s, f) or s | trials(n) response
	// (nil otherwise).
	Trials []float64
	// Terms parallel Design.Terms.
	Terms []*NewReTerm
	// Offset is each new row's offset (nil when the model has none).
	Offset []float64
	// Weights are the new rows' prior weights, from the model's weights
	// column when the new data have it (nil: weight 1 for every row).
	Weights []float64
}

// NewReTerm is a random-effect term evaluated on new rows.
type NewReTerm struct {
	// Refs gives each row's level: an index into the training term's
	// Levels, or len(Levels)+j for the j-th entry of NewLevels.
	Refs []int32
	// NewLevels are the levels not seen in training, in order of first
	// appearance.
	NewLevels []string
	// Z holds the effect values, K × N row-major, as in ReTerm.
	Z []float64
}
