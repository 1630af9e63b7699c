// Package provision is the pipeline that takes people from an input to a report: a Job reads
// rows from a Source, sends the valid ones through a Pool of workers (each attempt paced, each
// answer judged by the Endpoint), and hands every Result, failed rows included, to one emitting
// goroutine. The adapters at its seams live beside it: input (CSV, Excel), ideanote (the session
// endpoint), pace (the schedule of attempts); provisiontest is a fake endpoint for tests.
package provision
