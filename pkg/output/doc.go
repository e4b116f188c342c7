// Package output renders storectl's data, progress and messages for terminals and scripts.
package output
