package web_test

import (
	"context"
	"slices"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"classroom/domain"
	"classroom/realtime/client"
	"classroom/realtime/protocol"
)

// TestCompressedEventsInBrowser: the lesson page speaks protocol version
// 3, so the server sends it events messages compressed; the page inflates
// every one of them (as many as the server sent compressed: the teacher, a
// Go client of version 2, is sent text only) and folds the lesson as the
// Go client does. It handles a compressed message and the text messages
// after it strictly in order, and a message that does not inflate ends the
// session, which the page resumes from, catching up.
func TestCompressedEventsInBrowser(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	teacher, err := client.Dial(ctx, client.Options{URL: site.ws(lesson.ID), Token: lesson.Teacher.Token, Name: "Ms Rivera",
		Loopback: true, Version: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer teacher.Close()
	if _, err := teacher.Send(ctx, &domain.LessonStarted{}); err != nil {
		t.Fatal(err)
	}
	draw := func(n int) {
		t.Helper()
		var answers []<-chan client.Answer
		for i := range n { // pipelined, as the board sends them: messages of several events
			pts := make(domain.Points, 12)
			for k := range pts {
				pts[k] = domain.Point{X: float64(40 + 9*i + k), Y: float64(100 + 3*k*i%500), T: int64(k * 16), Pressure: 0.5}
			}
			a, err := teacher.Post(uuid.New(), &domain.StrokeDrawn{Object: uuid.New(), Tool: domain.ToolPen, Color: "#1e40af", Width: 3, Points: pts})
			if err != nil {
				t.Fatal(err)
			}
			answers = append(answers, a)
		}
		for _, a := range answers {
			if r := <-a; r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	draw(20) // before the page joins: its catch-up

	page := newTab(t, browser(t), "Sam")
	page.join(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Students.Token, "Sam")
	if v := eval[int](page, `window.classroom.app.conn.welcome.version`); v != protocol.Version {
		t.Fatalf("the page was welcomed with version %d, want %d", v, protocol.Version)
	}
	draw(60)
	same := func(what string) {
		t.Helper()
		waitUntil(t, 20*time.Second, what, func() bool {
			return page.seq() == teacher.Seq() && page.hash() == teacher.Hash()
		})
	}
	same("the page to fold what the teacher drew")
	if err := teacher.Err(); err != nil {
		t.Fatal(err)
	}
	inflated := eval[int](page, `window.classroom.app.conn.inflated`)
	sent := site.counter(t, "classroom_events_messages_compressed_total", nil)
	if inflated == 0 || float64(inflated) != sent {
		t.Fatalf("the page inflated %d messages, the server sent %v compressed; want the same, and some", inflated, sent)
	}

	// In order: a compressed message, then text messages right behind it.
	order := eval[[]string](page, `(async () => {
		const { LessonConnection } = await import("/static/js/connection.js");
		const pack = async (text) => new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("deflate-raw"))).arrayBuffer();
		const seen = [];
		const c = new LessonConnection({ url: "", token: "" });
		c.addEventListener("events", (e) => seen.push("events " + e.detail.map((x) => x.seq).join(",")));
		c.addEventListener("live", (e) => seen.push("live " + e.detail.seq));
		c.addEventListener("problem", (e) => seen.push("problem " + e.detail.code));
		c.onEventsMessage(await pack(JSON.stringify({ type: "events", events: [{ seq: 1 }, { seq: 2 }] })));
		c.onEventsMessage(JSON.stringify({ type: "live", seq: 2 }));
		c.onEventsMessage(await pack(JSON.stringify({ type: "events", events: [{ seq: 3 }] })));
		c.onEventsMessage(JSON.stringify({ type: "events", events: [{ seq: 4 }] }));
		// A stream cut short is an error, and nothing after it is handled.
		const cut = await pack(JSON.stringify({ type: "events", events: [{ seq: 5 }] }));
		c.onEventsMessage(cut.slice(0, cut.byteLength - 3));
		c.onEventsMessage(JSON.stringify({ type: "events", events: [{ seq: 6 }] }));
		await new Promise((r) => setTimeout(r, 300));
		return seen;
	})()`)
	if want := []string{"events 1,2", "live 2", "events 3", "events 4", "problem invalid"}; !slices.Equal(order, want) {
		t.Fatalf("the connection handled %q, want %q", order, want)
	}

	// A message that does not inflate on the page's own connection: the
	// page says so, resumes, and catches up with what it missed.
	eval[bool](page, `(() => {
		window.classroom.app.conn.old = true;
		window.classroom.app.conn.onEventsMessage(new Uint8Array([0xff, 0xff, 0x00]).buffer);
		return true;
	})()`)
	waitUntil(t, 30*time.Second, "the page to resume on a new connection", func() bool {
		ok, err := try[bool](page, `window.classroom.errors.some((e) => e.code === "invalid") &&
			!!window.classroom.app.conn && !window.classroom.app.conn.old && window.classroom.ready`)
		return err == nil && ok
	})
	draw(10)
	same("the page to catch up after its resume")

	// A browser that cannot inflate raw DEFLATE (Safari before 16.4, say)
	// joins with version 2 and is sent text only.
	plain := newTab(t, browser(t), "Old iPad")
	if _, err := chromedp.Call(plain.ctx, cdppage.AddScriptToEvaluateOnNewDocument,
		cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: `delete window.DecompressionStream;`}); err != nil {
		t.Fatal(err)
	}
	before := site.counter(t, "classroom_events_messages_compressed_total", nil)
	plain.join(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Students.Token, "Ola")
	if v := eval[int](plain, `import("/static/js/connection.js").then((m) => m.joinVersion())`); v != 2 {
		t.Fatalf("a page without deflate-raw joins with version %d, want 2", v)
	}
	draw(20)
	waitUntil(t, 20*time.Second, "the page without deflate-raw to fold what the teacher drew", func() bool {
		return plain.seq() == teacher.Seq() && plain.hash() == teacher.Hash()
	})
	same("the page with deflate-raw to fold it too")
	if n := eval[int](plain, `window.classroom.app.conn.inflated + window.classroom.errors.length`); n != 0 {
		t.Fatalf("the page without deflate-raw inflated messages or met errors: %d", n)
	}
	if sent := site.counter(t, "classroom_events_messages_compressed_total", nil); sent <= before {
		t.Fatalf("nothing was sent compressed while both pages were in the lesson (%v before, %v after)", before, sent)
	}
}

// TestByeAfterCompressedEvents: a bye that comes while the page still
// inflates the events the server sent before it is handled after them, so
// that a page that stops at the bye (the lesson ended) holds them.
func TestByeAfterCompressedEvents(t *testing.T) {
	site := startSite(t)
	page := newTab(t, browser(t), "page")
	if err := chromedp.Do(page.ctx, chromedp.Navigate(site.srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	order := eval[[]string](page, `(async () => {
		const { LessonConnection } = await import("/static/js/connection.js");
		const conn = new LessonConnection({ url: "", token: "" });
		const order = [];
		conn.addEventListener("events", (e) => order.push("events " + e.detail.map((ev) => ev.seq).join(",")));
		conn.addEventListener("bye", (e) => order.push("bye " + e.detail.reason));
		const msg = JSON.stringify({ type: "events", events: [{ seq: 1, kind: "lesson.ended", data: {} }] });
		const packed = await new Response(new Blob([msg]).stream().pipeThrough(new CompressionStream("deflate-raw"))).arrayBuffer();
		conn.onEventsMessage(packed);
		// As the socket's handler queues a signal.
		conn.signals = conn.signals.then(() => conn.onSignal({ type: "bye", code: "conflict", reason: "lesson_ended", message: "ended" }));
		await conn.signals;
		for (let i = 0; i < 100 && order.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
		return order;
	})()`)
	if want := []string{"events 1", "bye lesson_ended"}; !slices.Equal(order, want) {
		t.Fatalf("the page handled %q, want %q", order, want)
	}
}
