package domain

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/google/uuid"
)

// The board is most of a lesson's state, and a snapshot is encoded whenever
// one is stored or a late joiner needs one. Board and Object therefore encode
// themselves, byte for byte as encoding/json would encode them (the fuzz test
// FuzzBoardJSON holds them to it), without reflection or a validation pass
// per object.

// MarshalJSON encodes the board as encoding/json would.
func (b *Board) MarshalJSON() ([]byte, error) {
	return b.appendJSON(make([]byte, 0, b.sizeHint())), nil
}

// sizeHint is about the size of the board's encoding, a little more for
// boards of strokes: the capacity to encode it into.
func (b *Board) sizeHint() int {
	n := 64
	for _, o := range b.Objects {
		n += 200
		if o != nil {
			n += 30 * len(o.Points)
		}
	}
	for _, h := range b.History {
		if h != nil {
			n += 64 * (len(h.Undo) + len(h.Redo))
		}
	}
	return n
}

// appendJSON appends the board encoded as encoding/json would.
func (b *Board) appendJSON(buf []byte) []byte {
	buf = append(buf, `{"objects":`...)
	buf = appendSlice(buf, b.Objects, func(buf []byte, o *Object) []byte { return o.appendJSON(buf) })
	buf = append(buf, `,"history":`...)
	buf = appendMap(buf, b.History, func(buf []byte, h *History) []byte { return h.appendJSON(buf) })
	return append(buf, '}')
}

// appendMap appends m encoded as encoding/json would: null when nil, else
// its keys in order, each value appended by value.
func appendMap[V any](b []byte, m map[string]V, value func([]byte, V) []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = value(b, m[k])
	}
	return append(b, '}')
}

// appendSlice appends s encoded as encoding/json would: null when nil, else
// its elements in order, each appended by value.
func appendSlice[V any](b []byte, s []V, value func([]byte, V) []byte) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = value(b, v)
	}
	return append(b, ']')
}

// appendJSON appends the history encoded as encoding/json would.
func (h *History) appendJSON(b []byte) []byte {
	if h == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"undo":`...)
	b = appendActions(b, h.Undo)
	b = append(b, `,"redo":`...)
	b = appendActions(b, h.Redo)
	return append(b, '}')
}

// appendActions appends actions encoded as encoding/json would.
func appendActions(b []byte, as []Action) []byte {
	return appendSlice(b, as, func(b []byte, a Action) []byte {
		b = append(b, `{"op":`...)
		b = appendString(b, a.Op)
		b = append(b, `,"objects":`...)
		b = appendSlice(b, a.Objects, func(b []byte, id uuid.UUID) []byte {
			b = append(b, '"')
			b = append(b, id.String()...)
			return append(b, '"')
		})
		return append(b, '}')
	})
}

// MarshalJSON encodes the object as encoding/json would.
func (o *Object) MarshalJSON() ([]byte, error) { return o.appendJSON(nil), nil }

func (o *Object) appendJSON(b []byte) []byte {
	if o == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"id":"`...)
	b = append(b, o.ID.String()...)
	b = append(b, `","kind":`...)
	b = appendString(b, o.Kind)
	b = append(b, `,"owner":`...)
	b = appendString(b, o.Owner)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, o.Seq, 10)
	if o.Hidden {
		b = append(b, `,"hidden":true`...)
	}
	b = appendOptString(b, `,"tool":`, o.Tool)
	b = appendOptString(b, `,"shape":`, o.Shape)
	b = append(b, `,"color":`...)
	b = appendString(b, o.Color)
	b = appendOptString(b, `,"fill":`, o.Fill)
	b = appendOptFloat(b, `,"width":`, o.Width)
	if len(o.Points) > 0 {
		b = append(b, `,"points":[`...)
		for i, p := range o.Points {
			if i > 0 {
				b = append(b, ',')
			}
			b = p.appendJSON(b)
		}
		b = append(b, ']')
	}
	if o.Parts != 0 {
		b = append(b, `,"parts":`...)
		b = strconv.AppendInt(b, int64(o.Parts), 10)
	}
	b = appendPair(b, `,"from":`, o.From)
	b = appendPair(b, `,"to":`, o.To)
	b = appendPair(b, `,"at":`, o.At)
	b = appendOptString(b, `,"text":`, o.Text)
	b = appendOptFloat(b, `,"size":`, o.Size)
	return append(b, '}')
}

// appendOptString appends an omitempty string field.
func appendOptString(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendString(append(b, key...), v)
}

// appendOptFloat appends an omitempty float64 field.
func appendOptFloat(b []byte, key string, v float64) []byte {
	if v == 0 {
		return b
	}
	return appendFloat(append(b, key...), v)
}

// appendPair appends an omitzero [2]float64 field.
func appendPair(b []byte, key string, v [2]float64) []byte {
	if v == [2]float64{} {
		return b
	}
	b = append(b, key...)
	b = append(b, '[')
	b = appendFloat(b, v[0])
	b = append(b, ',')
	b = appendFloat(b, v[1])
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped exactly as encoding/json
// escapes it (HTML-safe, U+2028 and U+2029 escaped, invalid UTF-8 replaced).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendChat appends the chat kept in a state encoded as encoding/json
// would (TestChatJSON and FuzzChatJSON hold it to that). A snapshot holds
// up to MaxChatMessagesKept of them and is encoded every SnapshotEvery
// events, so this runs often over long lessons. It fails, as encoding/json
// does, on a time that RFC 3339 cannot write (a year outside 0–9999, a zone
// offset of 24 hours or more).
func appendChat(b []byte, chat []ChatMessage) ([]byte, error) {
	var err error
	b = appendSlice(b, chat, func(b []byte, m ChatMessage) []byte {
		if err != nil {
			return b
		}
		b = append(b, `{"seq":`...)
		b = strconv.AppendInt(b, m.Seq, 10)
		b = append(b, `,"actor":`...)
		b = appendString(b, m.Actor)
		b = append(b, `,"time":"`...)
		t, terr := m.Time.AppendText(b)
		if terr != nil {
			err = fmt.Errorf("chat message %d: %w", m.Seq, terr)
			return b
		}
		b = append(t, `","text":`...)
		b = appendString(b, m.Text)
		return append(b, '}')
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}
