package sampler

// chooseMethod returns the method to run and why.
func chooseMethod(st *setup, opt Options) (string, string) {
	switch opt.Method {
	case "collapsed", "crossed":
		return opt.Method, "chosen by the user"
	}
	return "collapsed", "auto: default"
}
