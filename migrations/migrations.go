// Package migrations holds the SQL schema of the event store, one numbered
// file per change and per database, embedded into the binary and applied by
// goose. It holds no code beyond finding the files, and a file, once
// released, must never be edited: a change is a new file.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Postgres returns the migrations for PostgreSQL.
func Postgres() fs.FS { return sub("postgres") }

// SQLite returns the migrations for SQLite.
func SQLite() fs.FS { return sub("sqlite") }

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // the directory is embedded above; it cannot be missing
	}
	return f
}
