package pace

// Reading is how the Finder read the latest 429.
func Reading(f *Finder) string { return f.Reading() }

// Readings are the names of every reading of a 429.
func Readings() []string { return readingNames[1:] }
