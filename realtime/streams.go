package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/media/sfu"
	"classroom/realtime/peer"
	"classroom/realtime/protocol"
)

// StreamKind says which way a stream's media goes.
type StreamKind string

// The kinds of stream.
const (
	// StreamPublish is a WHIP publisher: an encoder (OBS, a hardware
	// encoder) sending the teacher's camera and microphone.
	StreamPublish StreamKind = "publish"
	// StreamView is a WHEP viewer: a player receiving the stage.
	StreamView StreamKind = "view"
)

// Limits of streams.
const (
	// DefaultMaxViewers is how many WHEP viewers one lesson admits when
	// StreamsConfig.MaxViewers is 0.
	DefaultMaxViewers = 100
	// MaxOfferBytes bounds a WHIP or WHEP offer and a PATCH's fragment.
	MaxOfferBytes = 64 << 10
	// gatherTimeout bounds the wait for the server's candidates, which the
	// answer carries whole: WHIP clients such as OBS never trickle.
	gatherTimeout = 5 * time.Second
	// connectTimeout is how long a stream may take to connect after its
	// answer before it is ended.
	connectTimeout = 30 * time.Second
)

// TeacherID is the participant id of a lesson's teacher: a WHIP publisher
// publishes as them.
const TeacherID = "teacher"

// StreamsConfig configures Streams.
type StreamsConfig struct {
	// MaxViewers bounds the WHEP viewers of one lesson; 0 means
	// DefaultMaxViewers.
	MaxViewers int
}

// Streams are the WHIP publishers and WHEP viewers of the server's lessons
// (RFC 9725 and its WHEP sibling): media connections made by one HTTP
// offer and answer, with no WebSocket and no data channel. A publisher's
// tracks go on the lesson's stage as the teacher's, exactly as the
// teacher's browser's would, and are recorded the same way; a viewer is a
// member of the stage that receives what is on it and sends nothing. Who
// may open one (the keys) is the caller's to check; Streams checks the
// offer, one publisher per lesson, and the viewer limit. Streams end with
// DELETE, with a failed connection, with the lesson's room, or when the
// server closes, which waits for them.
type Streams struct {
	srv *Server
	cfg StreamsConfig

	mu         sync.Mutex
	byID       map[uuid.UUID]*Stream
	publishers map[uuid.UUID]*Stream // by lesson
	viewers    map[uuid.UUID]int     // by lesson
}

// NewStreams returns the streams of srv's lessons.
func NewStreams(srv *Server, cfg StreamsConfig) *Streams {
	if cfg.MaxViewers <= 0 {
		cfg.MaxViewers = DefaultMaxViewers
	}
	return &Streams{srv: srv, cfg: cfg, byID: map[uuid.UUID]*Stream{}, publishers: map[uuid.UUID]*Stream{},
		viewers: map[uuid.UUID]int{}}
}

// Stream is one WHIP publisher's or WHEP viewer's connection.
type Stream struct {
	ID     uuid.UUID
	Lesson uuid.UUID
	Kind   StreamKind
	// Key is the stream key that admitted it; uuid.Nil for the teacher's
	// own token.
	Key uuid.UUID
	// Participant is who the stream is in the lesson: the teacher for a
	// publisher; for a viewer, a participant of role viewer named for its
	// key and its place among the key's viewers ("viewer-1a2b3c4d-1"), so
	// that a player coming back takes its place again and the lesson does
	// not count a new participant each time.
	Participant string
	// Name is a viewer's name in the lesson: its key's label.
	Name string

	streams *Streams
	room    *Room
	pc      *webrtc.PeerConnection
	member  *sfu.Member // a publisher's, on the stage
	view    *stageView  // a viewer's, subscribed to the stage
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{} // closed once the stream has ended and is released

	staged bool            // the room counts the stream on stage or present
	over   <-chan struct{} // closed when the lesson ends

	mu   sync.Mutex
	etag string
}

// Publish opens a WHIP publisher's stream on the lesson from its offer and
// returns the stream and the answer, which carries the server's candidates.
// Refusals: CodeInvalid for an offer that is not SDP, sends nothing, or has
// no codec the server forwards; CodeConflict while another publisher of the
// lesson is live or once the lesson has ended; CodeUnavailable while the
// server shuts down.
func (st *Streams) Publish(ctx context.Context, lesson, key uuid.UUID, offer string) (*Stream, string, error) {
	return st.open(ctx, lesson, key, StreamPublish, "", offer)
}

// View opens a WHEP viewer's stream on the lesson: it joins the lesson as
// a viewer named name (its key's label), and is sent the teacher's and the
// floor holder's tracks, as many of each kind as its offer has media
// sections for (see stageView). Refusals as Publish's, and CodeConflict
// when the lesson has MaxViewers viewers already.
func (st *Streams) View(ctx context.Context, lesson, key uuid.UUID, name, offer string) (*Stream, string, error) {
	return st.open(ctx, lesson, key, StreamView, name, offer)
}

// Get returns a live stream by its id.
func (st *Streams) Get(id uuid.UUID) (*Stream, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.byID[id]
	return s, ok
}

// EndKey ends the lesson's streams a key admitted: the key was revoked.
func (st *Streams) EndKey(lesson, key uuid.UUID) {
	st.mu.Lock()
	var end []*Stream
	for _, s := range st.byID {
		if s.Lesson == lesson && s.Key == key && key != uuid.Nil {
			end = append(end, s)
		}
	}
	st.mu.Unlock()
	for _, s := range end {
		s.End()
	}
}

// publishing reports whether the lesson has a WHIP publisher.
func (st *Streams) publishing(lesson uuid.UUID) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	_, ok := st.publishers[lesson]
	return ok
}

// Viewers returns how many WHEP viewers the lesson has.
func (st *Streams) Viewers(lesson uuid.UUID) int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.viewers[lesson]
}

func (st *Streams) open(ctx context.Context, lesson, key uuid.UUID, kind StreamKind, name, offer string) (*Stream, string, error) {
	sections, err := checkOffer(offer, kind)
	if err != nil {
		return nil, "", err
	}
	s := &Stream{ID: uuid.New(), Lesson: lesson, Kind: kind, Key: key, Participant: TeacherID, streams: st, done: make(chan struct{})}
	if kind == StreamView {
		s.Name = strings.TrimSpace(name)
		if s.Name == "" || utf8.RuneCountInString(s.Name) > domain.MaxNameRunes {
			s.Name = "Viewer"
		}
	}
	// The context exists before the stream is claimed: EndKey may end it
	// from then on.
	s.ctx, s.cancel = context.WithCancel(st.srv.sessionsCtx)
	if err := st.claim(s); err != nil {
		s.cancel()
		return nil, "", err
	}
	srv := st.srv
	srv.mu.Lock()
	if srv.closed {
		srv.mu.Unlock()
		s.cancel()
		st.unclaim(s)
		close(s.done)
		return nil, "", domain.Errorf(domain.CodeUnavailable, "the server is shutting down")
	}
	srv.sessions.Add(1) // Close waits for the stream as for a session
	srv.mu.Unlock()
	sdpAnswer, err := s.start(ctx, offer, sections)
	if err != nil {
		s.cancel()
		s.release()
		return nil, "", err
	}
	go s.run()
	return s, sdpAnswer, nil
}

// claim registers the stream, checking one publisher per lesson and the
// viewer limit.
func (st *Streams) claim(s *Stream) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch s.Kind {
	case StreamPublish:
		if _, busy := st.publishers[s.Lesson]; busy {
			return domain.Errorf(domain.CodeConflict, "another encoder is publishing to this lesson; stop it first")
		}
		st.publishers[s.Lesson] = s
	case StreamView:
		if st.viewers[s.Lesson] >= st.cfg.MaxViewers {
			return domain.Errorf(domain.CodeConflict, "the lesson has its %d viewers already", st.cfg.MaxViewers)
		}
		st.viewers[s.Lesson]++
		key := "teacher"
		if s.Key != uuid.Nil {
			key = s.Key.String()[:8]
		}
		taken := map[string]bool{}
		for _, o := range st.byID {
			if o.Lesson == s.Lesson {
				taken[o.Participant] = true
			}
		}
		for n := 1; ; n++ {
			if s.Participant = fmt.Sprintf("viewer-%s-%d", key, n); !taken[s.Participant] {
				break
			}
		}
	}
	st.byID[s.ID] = s
	return nil
}

func (st *Streams) unclaim(s *Stream) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.byID, s.ID)
	switch s.Kind {
	case StreamPublish:
		if st.publishers[s.Lesson] == s {
			delete(st.publishers, s.Lesson)
		}
	case StreamView:
		if st.viewers[s.Lesson]--; st.viewers[s.Lesson] <= 0 {
			delete(st.viewers, s.Lesson)
		}
	}
}

// start opens the room, makes the connection and answers the offer.
func (s *Stream) start(ctx context.Context, offer string, sections []offeredSection) (string, error) {
	srv := s.streams.srv
	room, err := srv.acquire(ctx, s.Lesson)
	if err != nil {
		return "", err
	}
	s.room = room
	if err := s.stageRequest(ctx, 1); err != nil {
		return "", err
	}
	pc, err := srv.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		srv.log.Error("create a stream's peer connection", "err", err)
		return "", domain.Errorf(domain.CodeInternal, "could not set up the connection")
	}
	s.pc = pc
	if s.Kind == StreamPublish {
		s.member = room.stage.Join(s.Participant, pc)
		pc.OnTrack(s.member.Publish)
	} else {
		// The viewer's tracks are added before the offer is set, so that
		// its sections take them: WHEP has no offer from the server.
		var now stageTracks
		room.stage.Subscribe(&now)
		room.stage.Unsubscribe(&now)
		encoder := s.streams.publishing(s.Lesson)
		if s.view, err = newStageView(s.ctx, srv.log.With("lesson", s.Lesson, "stream", s.ID), pc, sections, now.tracks, encoder); err != nil {
			return "", err
		}
	}
	pc.OnConnectionStateChange(func(state webrtc.PeerConnectionState) {
		srv.log.Debug("stream connection", "lesson", s.Lesson, "stream", s.ID, "kind", s.Kind, "state", state.String())
		switch state {
		case webrtc.PeerConnectionStateConnected:
			peer.StartSRTP(pc)
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			s.cancel()
		}
	})
	if err := answer(ctx, pc, offer, "the offer", answersMedia); err != nil {
		return "", err
	}
	s.mu.Lock()
	s.etag = newETag()
	s.mu.Unlock()
	if s.view != nil {
		s.view.start()
		room.stage.Subscribe(s.view)
	}
	return pc.LocalDescription().SDP, nil
}

// stageRequest tells the room that the stream started (+1) or ended (-1).
func (s *Stream) stageRequest(ctx context.Context, delta int) error {
	req := &ingest{participant: s.Participant, role: domain.RoleTeacher, delta: delta, reply: make(chan error, 1)}
	over := make(chan (<-chan struct{}), 1)
	if delta > 0 {
		req.over = over
	}
	if s.Kind == StreamView {
		req.role, req.name = domain.RoleViewer, s.Name
	}
	if err := s.room.send(ctx, req); err != nil {
		return err
	}
	select {
	case err := <-req.reply:
		if err == nil && delta > 0 {
			s.staged, s.over = true, <-over
		}
		return err
	case <-s.room.stopped: // the request may have been queued as the room stopped
		return errRoomGone
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run waits for the stream's end, then releases it.
func (s *Stream) run() {
	timer := time.AfterFunc(connectTimeout, func() {
		if s.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
			s.cancel()
		}
	})
	defer timer.Stop()
	select {
	case <-s.ctx.Done():
	case <-s.room.done:
	case <-s.over: // the lesson ended
	}
	s.release()
}

// release ends the stream and gives back what it held.
func (s *Stream) release() {
	srv := s.streams.srv
	if s.member != nil {
		s.member.Leave()
	}
	if s.view != nil {
		s.room.stage.Unsubscribe(s.view)
	}
	if s.pc != nil {
		s.pc.Close()
	}
	if s.member != nil {
		s.member.Wait()
	}
	if s.view != nil {
		s.view.stop()
	}
	if s.room != nil {
		if s.staged {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := s.stageRequest(ctx, -1); err != nil {
				srv.log.Debug("stream: take the publisher off the stage", "err", err)
			}
			cancel()
		}
		srv.release(s.room)
	}
	s.streams.unclaim(s)
	srv.sessions.Done()
	close(s.done)
}

// End ends the stream (DELETE) and returns once it is released.
func (s *Stream) End() {
	s.cancel()
	<-s.done
}

// Done is closed once the stream has ended.
func (s *Stream) Done() <-chan struct{} { return s.done }

// ETag names the stream's ICE session: it changes with an ICE restart.
func (s *Stream) ETag() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.etag
}

func newETag() string {
	var b [8]byte
	rand.Read(b[:])
	return `"` + hex.EncodeToString(b[:]) + `"`
}

// offeredSection is an audio or video section of an offer: its kind and
// the MIME types of its codecs.
type offeredSection struct {
	kind   webrtc.RTPCodecType
	codecs []string
}

// checkOffer checks a WHIP (publish) or WHEP (view) offer before anything
// is made for it: SDP with an audio or video section, a publisher's
// sending, a viewer's receiving, and some codec the server forwards. It
// returns the offer's audio and video sections.
func checkOffer(offer string, kind StreamKind) ([]offeredSection, error) {
	if len(offer) > MaxOfferBytes {
		return nil, domain.Errorf(domain.CodeInvalid, "the offer is longer than %d bytes", MaxOfferBytes)
	}
	var d sdp.SessionDescription
	if err := d.UnmarshalString(offer); err != nil {
		return nil, domain.Errorf(domain.CodeInvalid, "the offer is not SDP: %v", err)
	}
	var sections []offeredSection
	known := 0
	for _, m := range d.MediaDescriptions {
		k := m.MediaName.Media
		sec := offeredSection{kind: webrtc.NewRTPCodecType(k)}
		if sec.kind == 0 {
			continue
		}
		dir := "sendrecv"
		for _, a := range m.Attributes {
			switch a.Key {
			case "sendonly", "recvonly", "inactive", "sendrecv":
				dir = a.Key
			case "rtpmap":
				_, codec, _ := strings.Cut(a.Value, " ")
				name, _, _ := strings.Cut(codec, "/")
				switch strings.ToLower(name) {
				case "opus", "h264", "vp8", "av1":
					known++
					sec.codecs = append(sec.codecs, k+"/"+name)
				}
			}
		}
		if kind == StreamPublish && (dir == "recvonly" || dir == "inactive") {
			return nil, domain.Errorf(domain.CodeInvalid, "a WHIP offer sends its media (sendonly), this one has %s %s", dir, k)
		}
		if kind == StreamView && (dir == "sendonly" || dir == "inactive") {
			return nil, domain.Errorf(domain.CodeInvalid, "a WHEP offer receives its media (recvonly), this one has %s %s", dir, k)
		}
		sections = append(sections, sec)
	}
	if len(sections) == 0 {
		return nil, domain.Errorf(domain.CodeInvalid, "the offer has no audio or video")
	}
	if known == 0 {
		return nil, errNoCodec
	}
	return sections, nil
}

// answer sets offer (what names it in errors) as pc's remote description
// and answers it, waiting at most gatherTimeout for the server's
// candidates, which the answer carries whole: WHIP clients such as OBS
// never trickle (and when gathering takes longer, peer-reflexive candidates
// still work). check, when set, vets the answer before it is set.
func answer(ctx context.Context, pc *webrtc.PeerConnection, offer, what string, check func(answer string) error) error {
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return domain.Errorf(domain.CodeInvalid, "%s was refused: %v", what, err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return domain.Errorf(domain.CodeInvalid, "could not answer %s: %v", what, err)
	}
	if check != nil {
		if err := check(ans.SDP); err != nil {
			return err
		}
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		return domain.Errorf(domain.CodeInvalid, "could not answer %s: %v", what, err)
	}
	wait, cancel := context.WithTimeout(ctx, gatherTimeout)
	defer cancel()
	select {
	case <-gathered:
	case <-wait.Done():
	}
	return nil
}

// answersMedia checks that an answer accepts some audio or video section
// (a rejected one has port 0).
func answersMedia(answer string) error {
	var d sdp.SessionDescription
	if d.UnmarshalString(answer) == nil {
		for _, m := range d.MediaDescriptions {
			if (m.MediaName.Media == "audio" || m.MediaName.Media == "video") && m.MediaName.Port.Value != 0 {
				return nil
			}
		}
	}
	return errNoCodec
}

// ingest is the room's part of a stream, asked when it starts (delta +1)
// and when it ends (-1): a publisher puts the teacher on stage while it is
// live; a viewer joins the lesson as a viewer (a stored join, and a leave
// at the end), so that it is listed and counted in attendance. No stream
// starts once the lesson has ended.
type ingest struct {
	participant string
	role        domain.Role // RoleTeacher for a publisher, RoleViewer for a viewer
	name        string      // a viewer's
	delta       int
	reply       chan error
	over        chan<- (<-chan struct{}) // given, on a start, what is closed when the lesson ends
}

func (req *ingest) do(ctx context.Context, r *Room) {
	r.flush(ctx) // so that the state is what the store holds
	if err := r.unsettled(); err != nil {
		req.whileReloading(r, err)
		return
	}
	if req.over != nil {
		if r.over == nil {
			r.over = make(chan struct{})
			r.endStreams(r.state)
		}
		req.over <- r.over
	}
	if req.delta > 0 && r.state.Status == domain.StatusEnded {
		req.reply <- domain.Errorf(domain.CodeConflict, "the lesson has ended").Because(domain.ReasonLessonEnded)
		return
	}
	if req.role == domain.RoleViewer && r.link != nil {
		// This node follows the lesson: only its owner decides what the
		// log holds, and a viewer is no participant it knows of. The viewer
		// watches all the same, unrecorded (docs/protocol.md, section 10).
		r.setStream(req)
		req.reply <- nil
		return
	}
	if req.role == domain.RoleViewer {
		var p domain.Payload = &domain.ParticipantJoined{Name: req.name}
		if req.delta < 0 {
			p = &domain.ParticipantLeft{}
		}
		ev, err := domain.Decide(r.state, domain.Command{ID: uuid.New(), Actor: req.participant, Role: domain.RoleViewer,
			Payload: p}, r.srv.now())
		if err != nil {
			if req.delta < 0 {
				err = nil // not present any more (the lesson ended)
			}
			req.reply <- err
			r.setStream(req)
			return
		}
		r.queue(ev, nil)
		r.setStream(req)
		r.flush(ctx)
		if req.delta > 0 && !r.present(req.participant) {
			r.setStream(&ingest{participant: req.participant, delta: -1})
			err := r.unsettled() // the lesson moved, or is reloading
			if err == nil {
				err = domain.Errorf(domain.CodeUnavailable, "the viewer's join could not be stored; try again")
			}
			req.reply <- err
			return
		}
		req.reply <- nil
		return
	}
	r.setStream(req)
	r.updateStage(r.state) // flushed and settled: the state is what the store holds
	req.reply <- nil
}

// present reports whether the state, as stored after a flush, lists the
// participant as present: not when the flush left the room without one.
func (r *Room) present(participant string) bool {
	if r.state == nil {
		return false
	}
	pt := r.state.Participants[participant]
	return pt != nil && pt.Present
}

// endStreams closes r.over once the lesson has ended, as st (the state as
// stored) says: its streams end.
func (r *Room) endStreams(st *domain.State) {
	if r.over == nil || st == nil || st.Status != domain.StatusEnded {
		return
	}
	select {
	case <-r.over:
	default:
		close(r.over)
	}
}

// setStream records a stream starting or ending in r.streams.
func (r *Room) setStream(req *ingest) {
	if req.delta > 0 {
		if r.streams == nil {
			r.streams = map[string]domain.Role{}
		}
		r.streams[req.participant] = req.role
	} else {
		delete(r.streams, req.participant)
	}
}

func (req *ingest) whileReloading(r *Room, err error) {
	if req.delta < 0 {
		r.setStream(req)
	}
	req.reply <- err
}

// ICEServers returns the STUN and TURN servers a stream's client is told
// of (in WHIP's Link headers), for a client that reached the server as host.
func (st *Streams) ICEServers(host string, s *Stream) []protocol.ICEServer {
	if st.srv.cfg.ICEServers == nil {
		return nil
	}
	return st.srv.cfg.ICEServers(host, s.Participant)
}

// Patch applies a WHIP/WHEP PATCH (a trickle-ice-sdpfrag, RFC 8840): the
// client's further candidates, or, when the fragment has new ICE
// credentials, an ICE restart, whose answer fragment it returns (empty for
// a trickle). ifMatch is the request's If-Match: the stream's ETag, or "*"
// for a restart. The stream's ETag changes with a restart.
func (s *Stream) Patch(ctx context.Context, frag, ifMatch string) (string, error) {
	if len(frag) > MaxOfferBytes {
		return "", domain.Errorf(domain.CodeInvalid, "the fragment is longer than %d bytes", MaxOfferBytes)
	}
	var ufrag, pwd string
	var cands []string
	for _, line := range strings.Split(frag, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			ufrag = strings.TrimPrefix(line, "a=ice-ufrag:")
		case strings.HasPrefix(line, "a=ice-pwd:"):
			pwd = strings.TrimPrefix(line, "a=ice-pwd:")
		case strings.HasPrefix(line, "a=candidate:"):
			cands = append(cands, strings.TrimPrefix(line, "a="))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ifMatch != "*" && ifMatch != s.etag {
		return "", domain.Errorf(domain.CodeConflict, "the ICE session has changed (If-Match %s, now %s)", ifMatch, s.etag)
	}
	remote := s.pc.RemoteDescription()
	if remote == nil {
		return "", domain.Errorf(domain.CodeConflict, "the stream has no offer")
	}
	if ufrag == "" || strings.Contains(remote.SDP, "a=ice-ufrag:"+ufrag+"\r\n") {
		for _, c := range cands {
			if err := s.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c}); err != nil {
				return "", domain.Errorf(domain.CodeInvalid, "the candidate was refused: %v", err)
			}
		}
		return "", nil
	}
	if pwd == "" {
		return "", domain.Errorf(domain.CodeInvalid, "an ICE restart needs a=ice-pwd beside a=ice-ufrag")
	}
	// An ICE restart: the offer again with the new credentials.
	var offer []string
	for _, line := range strings.Split(remote.SDP, "\r\n") {
		switch {
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			line = "a=ice-ufrag:" + ufrag
		case strings.HasPrefix(line, "a=ice-pwd:"):
			line = "a=ice-pwd:" + pwd
		case strings.HasPrefix(line, "a=candidate:"), line == "a=end-of-candidates":
			continue
		}
		offer = append(offer, line)
	}
	if err := answer(ctx, s.pc, strings.Join(offer, "\r\n"), "the ICE restart", nil); err != nil {
		return "", err
	}
	for _, c := range cands {
		if err := s.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: c}); err != nil {
			return "", domain.Errorf(domain.CodeInvalid, "the candidate was refused: %v", err)
		}
	}
	s.etag = newETag()
	var out []string
	for _, line := range strings.Split(s.pc.LocalDescription().SDP, "\r\n") {
		if strings.HasPrefix(line, "a=ice-ufrag:") || strings.HasPrefix(line, "a=ice-pwd:") || strings.HasPrefix(line, "a=candidate:") {
			if !slices.Contains(out, line) {
				out = append(out, line)
			}
		}
	}
	return strings.Join(out, "\r\n") + "\r\n", nil
}
