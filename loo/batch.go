package loo

import (
	"fmt"
	"sync"
)

// LOOBatch computes the PSIS-LOO quantities of every observation in cols
// (each S = chains × draws log-likelihood draws, chain-major) on `workers`
// goroutines, results in input order (so they do not depend on the number
// of workers). withWAIC also computes WAIC's (else waic is nil). first is the
// index of cols[0] among all observations, for error messages.
func LOOBatch(cols [][]float64, chains, workers, first int, withWAIC bool) (pw []Pointwise, waic []WAICPointwise, err error) {
	if len(cols) == 0 {
		return nil, nil, nil
	}
	S := len(cols[0])
	if chains < 1 || S%chains != 0 {
		return nil, nil, fmt.Errorf("loo: %d draws do not split into %d chains", S, chains)
	}
	pw = make([]Pointwise, len(cols))
	if withWAIC {
		waic = make([]WAICPointwise, len(cols))
	}
	workers = max(1, min(workers, len(cols)))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, e := NewComputer(chains, S/chains)
			if e != nil {
				errs[w] = e
				return
			}
			for i := w; i < len(cols); i += workers {
				p, e := c.LOO(cols[i], 0)
				if e != nil {
					errs[w] = fmt.Errorf("observation %d: %w", first+i+1, e)
					return
				}
				pw[i] = p
				if withWAIC {
					if waic[i], e = c.WAIC(cols[i]); e != nil {
						errs[w] = fmt.Errorf("observation %d: %w", first+i+1, e)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e != nil {
			return nil, nil, e
		}
	}
	return pw, waic, nil
}
