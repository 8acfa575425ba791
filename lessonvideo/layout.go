package lessonvideo

import "image"

// Layout places the parts of a frame as the replay page places them: the
// board large on the left, the teacher's video and the floor student's
// beside it, each with its label under it, and the chat below them.
type Layout struct {
	Width, Height int
	Title         image.Point     // the slide's label, its text's top left
	Board         image.Rectangle // 16:9, the whole board
	Teacher       image.Rectangle // 16:9
	Floor         image.Rectangle // 16:9
	Chat          image.Rectangle
	TextSize      float64 // of labels and chat, in pixels
}

// NewLayout lays out a frame of w × h pixels (both even, as H.264's 4:2:0
// needs; w at least 16:9 of h is best used).
func NewLayout(w, h int) Layout {
	m := max(4, h/48)
	colW := w / 4
	bw := min(w-colW-3*m, (h-4*m)*16/9) &^ 1
	bh := (bw * 9 / 16) &^ 1
	top := (h - bh) / 2
	text := float64(max(10, h/40))
	tileW := colW &^ 1 // even: the videos laid over the tiles are 4:2:0
	tileH := (tileW * 9 / 16) &^ 1
	x := m + bw + m
	label := int(text*1.6) + m/2
	l := Layout{Width: w, Height: h, TextSize: text,
		Title:   image.Pt(m, max(0, top-int(text*1.6))),
		Board:   image.Rect(m, top, m+bw, top+bh),
		Teacher: image.Rect(x, top, x+tileW, top+tileH),
	}
	l.Floor = image.Rect(x, l.Teacher.Max.Y+label, x+tileW, l.Teacher.Max.Y+label+tileH)
	l.Chat = image.Rect(x, l.Floor.Max.Y+label, w-m, h-m)
	return l
}
