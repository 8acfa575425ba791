package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLTICommands: "classroom lti add" registers a platform in the data
// directory's file, refusing an incomplete one with a message and the file
// intact; "lti urls" prints what a platform asks for; "lti rotate-key"
// keeps the previous key published.
func TestLTICommands(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (string, int) {
		code, stdout, stderr := runBinary(t, nil, []string{"DATABASE_URL=", "CLASSROOM_PUBLIC_URL="}, args...)
		return stdout + stderr, code
	}
	moodle := []string{"lti", "add", "-data", dir, "-issuer", "https://moodle.school.example", "-client-id", "abc",
		"-deployment-ids", "1, 2", "-auth-url", "https://moodle.school.example/mod/lti/auth.php",
		"-token-url", "https://moodle.school.example/mod/lti/token.php", "-jwks-url", "https://moodle.school.example/mod/lti/certs.php"}
	if out, code := run(moodle...); code != 0 || !strings.Contains(out, "registered https://moodle.school.example") {
		t.Fatalf("lti add: %d %s", code, out)
	}
	file := filepath.Join(dir, "lti-platforms.json")
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var list []struct {
		Issuer      string   `json:"issuer"`
		Deployments []string `json:"deployment_ids"`
	}
	if err := json.Unmarshal(before, &list); err != nil || len(list) != 1 || len(list[0].Deployments) != 2 {
		t.Fatalf("the platforms file: %s (%v)", before, err)
	}
	if out, code := run("lti", "add", "-data", dir, "-issuer", "https://canvas.instructure.com", "-client-id", "x"); code != 1 ||
		!strings.Contains(out, "deployment id") {
		t.Fatalf("an incomplete platform: %d %s", code, out)
	}
	if after, _ := os.ReadFile(file); string(after) != string(before) {
		t.Fatal("a refused registration changed the platforms file")
	}
	if out, code := run("lti", "urls", "-public-url", "https://class.example.org"); code != 0 ||
		!strings.Contains(out, "https://class.example.org/lti/login") || !strings.Contains(out, "https://class.example.org/lti/jwks") {
		t.Fatalf("lti urls: %d %s", code, out)
	}
	if out, code := run("lti", "urls"); code != 1 || !strings.Contains(out, "-public-url") {
		t.Fatalf("lti urls without a public URL: %d %s", code, out)
	}
	for range 2 {
		if out, code := run("lti", "rotate-key", "-data", dir); code != 0 || !strings.Contains(out, "previous key stays published") {
			t.Fatalf("lti rotate-key: %d %s", code, out)
		}
	}
	if _, code := run("lti", "nonsense"); code != 1 {
		t.Fatalf("an unknown lti command exits %d", code)
	}
}
