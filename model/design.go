package model

// fixedSpec is a placeholder; the design builder defines it fully.
type fixedSpec struct{}
