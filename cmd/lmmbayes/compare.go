package main

func cmdCompare(e *env, args []string) error {
	fs := newFlags("compare", "", e.stdout)
	if _, err := fs.parse(args); err != nil {
		return err
	}
	return inputErrorf("compare: not implemented yet")
}
