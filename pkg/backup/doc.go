// Package backup saves a store into an archive and restores stores from archives, through exec in the store's containers.
package backup
