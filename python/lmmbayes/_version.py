"""The package's version; it matches the lmmbayes binary's (cmd/lmmbayes/version.go)."""

__version__ = "0.1.0.dev0"
