package main

func cmdDiagnose(e *env, args []string) error {
	fs := newFlags("diagnose", "", e.stdout)
	if _, err := fs.parse(args); err != nil {
		return err
	}
	return inputErrorf("diagnose: not implemented yet")
}
