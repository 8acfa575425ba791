// Command gen writes web/static/js/limits.js from the server's constants
// (see package jslimits). go generate runs it in web/.
package main

import (
	"log"
	"os"

	"classroom/web/internal/jslimits"
)

func main() {
	if err := os.WriteFile(jslimits.Path, jslimits.Module(), 0o644); err != nil {
		log.Fatal(err)
	}
}
