package doubletick

// Paths exports paths to the package's external tests.
func (l *PathLimiter) Paths() int { return l.paths() }
