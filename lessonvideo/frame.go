package lessonvideo

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/jpeg" // slide pages
	_ "image/png"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
	_ "golang.org/x/image/webp"

	"github.com/google/uuid"

	"classroom/domain"
	"classroom/eventstore"
)

var (
	backdrop  = color.NRGBA{0x20, 0x21, 0x24, 0xff}
	tileColor = color.NRGBA{0x30, 0x31, 0x36, 0xff}
	textColor = color.NRGBA{0xe8, 0xea, 0xed, 0xff}
	dimColor  = color.NRGBA{0x9a, 0xa0, 0xa6, 0xff}
)

// chatLines is how many of the last chat messages the panel shows.
const chatLines = 8

// Framer draws a lesson's frames from its state, all but the videos, which
// the encoder lays over the tiles.
type Framer struct {
	layout Layout
	board  *BoardPainter
	cache  boardCache
	decks  eventstore.Decks // nil: slides are blank pages
	lesson uuid.UUID
	slides map[string]*image.RGBA // fitted slide images, by slide key
	names  map[string]string
	Frame  *image.RGBA
}

// NewFramer returns a Framer of frames laid out by l.
func NewFramer(l Layout, decks eventstore.Decks, lesson uuid.UUID) (*Framer, error) {
	bp, err := NewBoardPainter()
	if err != nil {
		return nil, err
	}
	return &Framer{layout: l, board: bp, decks: decks, lesson: lesson, slides: map[string]*image.RGBA{},
		Frame: image.NewRGBA(image.Rect(0, 0, l.Width, l.Height))}, nil
}

// Draw draws the frame of state s into f.Frame.
func (f *Framer) Draw(ctx context.Context, s *domain.State) error {
	l := f.layout
	dst := f.Frame
	draw.Draw(dst, dst.Bounds(), image.NewUniform(backdrop), image.Point{}, draw.Src)
	bg, err := f.slide(ctx, s.Slide)
	if err != nil {
		return err
	}
	f.cache.paint(f.board, dst, l.Board, s.Slide.Key(), s.Board(s.Slide), bg)
	f.text(dst, l.Title, textColor, slideTitle(s, s.Slide))
	draw.Draw(dst, l.Teacher, image.NewUniform(tileColor), image.Point{}, draw.Src)
	teacher := "Teacher"
	for _, p := range s.Participants {
		if p.Role == domain.RoleTeacher && p.Present {
			teacher = nameOf(s, p.ID)
		}
	}
	f.text(dst, image.Pt(l.Teacher.Min.X, l.Teacher.Max.Y+2), textColor, teacher)
	if s.Floor != "" {
		draw.Draw(dst, l.Floor, image.NewUniform(tileColor), image.Point{}, draw.Src)
		f.text(dst, image.Pt(l.Floor.Min.X, l.Floor.Max.Y+2), textColor, nameOf(s, s.Floor)+" (has the floor)")
	}
	f.chat(dst, s)
	return nil
}

// chat writes the last messages into the chat panel, newest last.
func (f *Framer) chat(dst *image.RGBA, s *domain.State) {
	l := f.layout
	lineH := int(l.TextSize * 1.4)
	if lineH <= 0 || l.Chat.Dy() < lineH {
		return
	}
	fits := l.Chat.Dy() / lineH
	var lines []string
	for i := len(s.Chat) - 1; i >= 0 && len(lines) < fits && len(s.Chat)-i <= chatLines; i-- {
		m := s.Chat[i]
		lines = append(lines, nameOf(s, m.Actor)+": "+oneLine(m.Text))
	}
	clip := dst.SubImage(l.Chat).(*image.RGBA)
	for i, line := range lines {
		y := l.Chat.Max.Y - (i+1)*lineH
		f.text(clip, image.Pt(l.Chat.Min.X, y), dimColor, line)
	}
}

// text writes one line with its top left at at, cut at dst's edge.
func (f *Framer) text(dst *image.RGBA, at image.Point, c color.NRGBA, s string) {
	face := f.board.face(f.layout.TextSize)
	if face == nil {
		return
	}
	m := face.Metrics()
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: face,
		Dot: fixed.Point26_6{X: fixed.I(at.X), Y: fixed.I(at.Y) + m.Ascent}}
	d.DrawString(s)
}

// slide returns the slide's page fitted to the board, nil for the blank
// whiteboard or a page that cannot be had (drawn blank, as the replay does).
func (f *Framer) slide(ctx context.Context, sl domain.Slide) (*image.RGBA, error) {
	if sl.Deck == uuid.Nil || f.decks == nil {
		return nil, nil
	}
	key := sl.Key()
	if img, ok := f.slides[key]; ok {
		return img, nil
	}
	page, err := f.decks.Page(ctx, f.lesson, sl.Deck, sl.Page)
	var img *image.RGBA
	switch {
	case err == nil:
		src, _, derr := image.Decode(bytes.NewReader(page.Data))
		if derr != nil {
			return nil, fmt.Errorf("lessonvideo: slide %s: %w", key, derr)
		}
		img = FitSlide(src, f.layout.Board.Dx(), f.layout.Board.Dy())
	case domain.ErrorCode(err) == domain.CodeNotFound:
	default:
		return nil, err
	}
	if len(f.slides) >= 16 { // a few pages back and forth are kept
		clear(f.slides)
	}
	f.slides[key] = img
	return img, nil
}
