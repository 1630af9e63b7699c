package pace

// Reading is how the Finder read the latest 429, for the traces of the simulated matrix.
func Reading(f *Finder) string {
	if f.probeCut {
		return "probe refused: " + f.reading.String()
	}
	return f.reading.String()
}

// Readings are the names of every reading of a 429.
func Readings() []string { return readingNames[1:] }
