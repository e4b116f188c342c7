// Package startup turns the garbage collector off while Go initialises storectl's packages,
// and on again when main begins.
//
// Every command, version and --help included, runs the initialisation of every linked
// package before main: the Helm SDK's JSON-schema meta-schemas, client-go's API scheme and
// the like, some fifteen megabytes of short-lived allocation. With the collector on, it
// runs several cycles over that heap, which is a quarter of the start-up time, for memory
// the process has to keep anyway. Go initialises a package as soon as the packages it
// imports are, in the order of their import paths, so this package, which imports only
// runtime/debug, runs before the heavy ones.
package startup

import "runtime/debug"

// gcPercent is the setting the process started with (GOGC, 100 by default).
var gcPercent = debug.SetGCPercent(-1)

// Done restores the collector's setting. main calls it first.
func Done() { debug.SetGCPercent(gcPercent) }
