package pace

// Reading is how the Finder read the latest 429, for the traces of the simulated matrix.
func Reading(f *Finder) string { return f.reading }
