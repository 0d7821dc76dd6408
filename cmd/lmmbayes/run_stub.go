package main

func cmdRun(e *env, args []string) error {
	return inputErrorf("run: not implemented yet")
}
