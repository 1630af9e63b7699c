package main

import "github.com/ideanote-provision/ideanote-provision/provision"

// newPacer is the pacer the CLI builds for --rate rate.
func newPacer(rate float64) *provision.Pacer { return provision.NewPacer(rate, 1) }
