package main

func cmdPredict(e *env, args []string) error {
	fs := newFlags("predict", "", e.stdout)
	if _, err := fs.parse(args); err != nil {
		return err
	}
	return inputErrorf("predict: not implemented yet")
}
