// Package i18n gives the pages the server renders itself (sign-in, the LTI
// pages) their words in the reader's language, from the browser client's
// own catalogues (web/static/i18n/<lang>.json): one source of strings for
// every page. It owns reading the catalogues, choosing a request's language
// (the one chosen on a page, kept in a cookie, else the browser's
// Accept-Language) and filling {placeholders}; it holds no strings of its
// own and never writes a response.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"golang.org/x/text/language"
)

// Cookie is the cookie the pages keep a reader's chosen language in
// (web/static/js/i18n.js sets it with the language switch).
const Cookie = "classroom_language"

// Catalogues are the translations of every language but English, whose
// words are the English texts themselves. A nil *Catalogues speaks English.
type Catalogues struct {
	langs   map[string]map[string]string
	matcher language.Matcher
	tags    []string // the matcher's languages, English first
}

// Load reads every <lang>.json of fsys's root: an object mapping an English
// text to its translation.
func Load(fsys fs.FS) (*Catalogues, error) {
	names, err := fs.Glob(fsys, "*.json")
	if err != nil {
		return nil, err
	}
	c := &Catalogues{langs: map[string]map[string]string{}, tags: []string{"en"}}
	supported := []language.Tag{language.English}
	for _, name := range names {
		lang := strings.TrimSuffix(path.Base(name), ".json")
		tag, err := language.Parse(lang)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: not a language: %w", name, err)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		c.langs[lang] = m
		c.tags = append(c.tags, lang)
		supported = append(supported, tag)
	}
	c.matcher = language.NewMatcher(supported)
	return c, nil
}

// For returns the words of a request's language: the first of preferred
// (languages the caller knows the reader wants, such as a learning
// platform's locale) that has a catalogue, else the one the request's
// Cookie names, else the best of its Accept-Language, else English.
func (c *Catalogues) For(r *http.Request, preferred ...string) Words {
	if c == nil {
		return Words{Lang: "en"}
	}
	var wanted []language.Tag
	for _, p := range preferred {
		if tag, err := language.Parse(p); err == nil {
			wanted = append(wanted, tag)
		}
	}
	if ck, err := r.Cookie(Cookie); err == nil {
		if tag, err := language.Parse(ck.Value); err == nil {
			wanted = append(wanted, tag)
		}
	}
	if tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language")); err == nil {
		wanted = append(wanted, tags...)
	}
	return c.In(c.match(wanted))
}

// match picks the catalogue of the first wanted language that has one
// (de-AT is de), else English.
func (c *Catalogues) match(wanted []language.Tag) string {
	for _, w := range wanted {
		if _, i, conf := c.matcher.Match(w); conf >= language.High {
			return c.tags[i]
		}
	}
	return "en"
}

// In returns the words of a language ("de"); a language without a
// catalogue is English.
func (c *Catalogues) In(lang string) Words {
	if c == nil || c.langs[lang] == nil {
		return Words{Lang: "en"}
	}
	return Words{Lang: lang, texts: c.langs[lang]}
}

// Words are one language's words.
type Words struct {
	// Lang is the language's code, for <html lang>.
	Lang  string
	texts map[string]string
}

// T translates an English text of the catalogues and fills its
// {placeholders} from params, given as name, value pairs. A text the
// catalogue lacks stays English. T's first argument is a literal, so that
// TestCatalogues (web/i18n_test.go) finds it.
func (w Words) T(english string, params ...string) string {
	s := english
	if tr := w.texts[english]; tr != "" {
		s = tr
	}
	for i := 0; i+1 < len(params); i += 2 {
		s = strings.ReplaceAll(s, "{"+params[i]+"}", params[i+1])
	}
	return s
}

// Text is words to show later in the reader's language: an English text of
// the catalogues and its placeholders' values, as name, value pairs. As an
// error it reads in English (for logs).
type Text struct {
	English string
	Params  []string
}

// NewText returns the words english with its placeholders' values, given
// as name, value pairs; its first argument is a literal, for
// TestCatalogues.
func NewText(english string, params ...string) *Text {
	return &Text{English: english, Params: params}
}

func (x *Text) Error() string { return Words{}.T(x.English, x.Params...) }

// Say returns a Text in the language of w.
func (w Words) Say(x *Text) string { return w.T(x.English, x.Params...) }
