package provision

// Source yields the rows of an input in order: a Row with Err set for a row that cannot be sent
// (it is reported invalid), io.EOF at the end, any other error ends the input.
type Source interface {
	Read() (Row, error)
}
