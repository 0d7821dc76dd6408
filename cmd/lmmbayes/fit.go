package main

func cmdFit(e *env, args []string) error {
	fs := newFlags("fit", "", e.stdout)
	if _, err := fs.parse(args); err != nil {
		return err
	}
	return inputErrorf("fit: not implemented yet")
}
