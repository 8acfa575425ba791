package web_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// serverPackages are the packages whose pages the server renders itself,
// in the catalogues' words (classroom/web/i18n).
var serverPackages = []string{"signin", "lti"}

// serverSources are the Go files of serverPackages, tests left out.
func serverSources(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, dir := range serverPackages {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if !strings.HasSuffix(f, "_test.go") {
				out = append(out, f)
			}
		}
	}
	return out
}

// goTextCalls are the functions whose first argument is an English text of
// the catalogues: Words.T, i18n.NewText, and lti's refusal and forbidden.
var goTextCalls = map[string]bool{"T": true, "NewText": true, "refusal": true, "forbidden": true}

var (
	templateTextRE   = regexp.MustCompile(`\.T ("(?:[^"\\]|\\.)*")`)
	templateActionRE = regexp.MustCompile(`\{\{.*?\}\}`)
)

// goStrings returns the texts a Go file gives to goTextCalls and to .W.T in
// its templates (string literals holding "<html"), and the words its
// templates show without .W.T: text outside an action, and a title,
// aria-label, placeholder or alt.
func goStrings(t *testing.T, path string) (keys, bare []use) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	where := func(p token.Pos) string {
		return "web/" + filepath.ToSlash(path) + ":" + strconv.Itoa(fset.Position(p).Line)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			name := ""
			switch fn := n.Fun.(type) {
			case *ast.Ident:
				name = fn.Name
			case *ast.SelectorExpr:
				name = fn.Sel.Name
			}
			if !goTextCalls[name] || len(n.Args) == 0 {
				return true
			}
			if lit, ok := n.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, use{s, where(lit.Pos())})
			} else {
				t.Errorf("%s: %s is given no literal: the catalogue check cannot see its text", where(n.Pos()), name)
			}
		case *ast.BasicLit:
			if n.Kind != token.STRING {
				return true
			}
			src, err := strconv.Unquote(n.Value)
			if err != nil || !strings.Contains(src, "<html") {
				return true
			}
			for _, m := range templateTextRE.FindAllStringSubmatch(src, -1) {
				s, err := strconv.Unquote(m[1])
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, use{s, where(n.Pos())})
			}
			for _, b := range templateBare(t, templateActionRE.ReplaceAllString(src, "")) {
				bare = append(bare, use{b, where(n.Pos())})
			}
		}
		return true
	})
	return keys, bare
}

// templateBare returns the words an HTML template (its actions removed)
// shows as they are.
func templateBare(t *testing.T, src string) []string {
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	letters := regexp.MustCompile(`\p{L}`)
	var out []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "script" || n.Data == "style" {
				return
			}
			for _, a := range n.Attr {
				switch a.Key {
				case "title", "aria-label", "placeholder", "alt":
					if letters.MatchString(a.Val) {
						out = append(out, a.Val)
					}
				}
			}
		}
		if n.Type == html.TextNode && letters.MatchString(n.Data) {
			out = append(out, strings.TrimSpace(n.Data))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}
