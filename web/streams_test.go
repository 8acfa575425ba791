package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
	pionmedia "github.com/pion/webrtc/v4/pkg/media"

	"classroom/domain"
	"classroom/media/codec"
	"classroom/media/mediatest"
	"classroom/realtime"
	"classroom/realtime/protocol"
)

// streamKey is a stream key as the teacher's page is given it.
type streamKey struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Key  string `json:"key"`
	URL  string `json:"url"`
}

// makeKey makes a stream key of the lesson with the teacher's token.
func (s *liveSite) makeKey(t *testing.T, lesson, teacher, kind string) streamKey {
	t.Helper()
	req, _ := http.NewRequest("POST", s.srv.URL+"/api/lessons/"+lesson+"/keys",
		strings.NewReader(`{"kind":"`+kind+`","label":"a test's `+kind+` key"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+teacher)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var k streamKey
	if err := json.NewDecoder(resp.Body).Decode(&k); err != nil || resp.StatusCode != http.StatusCreated || k.Key == "" {
		t.Fatalf("make a %s key: %d %v %+v", kind, resp.StatusCode, err, k)
	}
	return k
}

// streamRequest sends a request to the WHIP/WHEP routes with a bearer
// token and reads the answer's body.
func streamRequest(t *testing.T, method, u, token, contentType, body string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// loopbackAPI is a pion API whose connections use loopback addresses, with
// the codecs given.
func loopbackAPI(t *testing.T, codecs ...webrtc.RTPCodecParameters) *webrtc.API {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	m := &webrtc.MediaEngine{}
	for _, c := range codecs {
		kind := webrtc.RTPCodecTypeVideo
		if strings.HasPrefix(c.MimeType, "audio/") {
			kind = webrtc.RTPCodecTypeAudio
		}
		if err := m.RegisterCodec(c, kind); err != nil {
			t.Fatal(err)
		}
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(ir))
}

// OBS's WHIP output's codecs (plugins/obs-webrtc/whip-output.cpp): Opus at
// payload type 111, H.264 at 96, with NACK.
var (
	obsOpus = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus,
		ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111}
	obsH264 = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264,
		ClockRate: 90000, SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}}, PayloadType: 96}
)

// obsEncoder sends as OBS's WHIP output does: one PeerConnection with a
// send-only Opus track (mid 0) and a send-only H.264 track (mid 1), either
// of which may be absent; the offer goes out before any candidate is
// gathered, and none is ever trickled, so the server knows the encoder's
// address only from its connectivity checks (peer-reflexive).
type obsEncoder struct {
	t            *testing.T
	codec        webrtc.RTPCodecParameters // the video's
	pc           *webrtc.PeerConnection
	video, audio *webrtc.TrackLocalStaticSample
	resource     string // the resource's URL, from Location
	links        []string
	stop         chan struct{}
	sending      sync.WaitGroup
}

func newOBS(t *testing.T, video, audio bool) *obsEncoder {
	t.Helper()
	return newEncoder(t, obsH264, video, audio)
}

// newEncoder is newOBS with another video codec (OBS's AV1 output, say).
func newEncoder(t *testing.T, codec webrtc.RTPCodecParameters, video, audio bool) *obsEncoder {
	t.Helper()
	pc, err := loopbackAPI(t, obsOpus, codec).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	o := &obsEncoder{t: t, codec: codec, pc: pc, stop: make(chan struct{})}
	t.Cleanup(o.close)
	if audio {
		o.audio, _ = webrtc.NewTrackLocalStaticSample(obsOpus.RTPCodecCapability, "audio", "obs")
		if _, err := pc.AddTransceiverFromTrack(o.audio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	if video {
		o.video, _ = webrtc.NewTrackLocalStaticSample(codec.RTPCodecCapability, "video", "obs")
		if _, err := pc.AddTransceiverFromTrack(o.video, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// offer is the encoder's offer, with no candidate in it.
func (o *obsEncoder) offer() string {
	o.t.Helper()
	offer, err := o.pc.CreateOffer(nil)
	if err != nil {
		o.t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(offer.SDP, "\r\n") {
		if !strings.HasPrefix(l, "a=candidate:") && l != "a=end-of-candidates" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\r\n")
}

// connect POSTs the offer as OBS does and sets the answer; it returns the
// response, with its body, for the test to check.
func (o *obsEncoder) connect(endpoint, key string) (*http.Response, string) {
	o.t.Helper()
	offer := o.offer()
	resp, body := streamRequest(o.t, "POST", endpoint, key, "application/sdp", offer,
		http.Header{"User-Agent": {"Mozilla/5.0 (OBS-Studio/31.0.0; Linux x86_64; en-US)"}})
	if resp.StatusCode != http.StatusCreated {
		return resp, body
	}
	loc, err := resp.Location() // resolved against the endpoint, as OBS resolves a relative one
	if err != nil {
		o.t.Fatalf("the answer's Location: %v", err)
	}
	o.resource = loc.String()
	o.links = resp.Header.Values("Link")
	if err := o.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		o.t.Fatal(err)
	}
	// OBS reads the answer from "v=0" on.
	answer := body[strings.Index(body, "v=0"):]
	if err := o.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		o.t.Fatalf("set the answer: %v", err)
	}
	return resp, body
}

// send sends the test pattern (x264's, or libaom's for AV1) and a tone,
// in a loop, until close.
func (o *obsEncoder) send() {
	var aus [][]byte
	if strings.EqualFold(o.codec.MimeType, webrtc.MimeTypeAV1) {
		aus = mediatest.AV1(o.t, 90)
	} else {
		aus = mediatest.X264(o.t, 90)
	}
	tone := mediatest.OpusTone(o.t, 3)
	loop := func(period time.Duration, track *webrtc.TrackLocalStaticSample, samples [][]byte) {
		defer o.sending.Done()
		tick := time.NewTicker(period)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-o.stop:
				return
			case <-tick.C:
			}
			if err := track.WriteSample(pionmedia.Sample{Data: samples[n%len(samples)], Duration: period}); err != nil {
				return
			}
		}
	}
	if o.video != nil {
		o.sending.Add(1)
		go loop(time.Second/30, o.video, aus)
	}
	if o.audio != nil {
		o.sending.Add(1)
		go loop(20*time.Millisecond, o.audio, tone)
	}
}

func (o *obsEncoder) close() {
	select {
	case <-o.stop:
	default:
		close(o.stop)
	}
	o.sending.Wait()
	o.pc.Close()
}

// whepViewer is a player made with pion: a PeerConnection that receives
// audio and video, offering after gathering (no trickle).
type whepViewer struct {
	pc         *webrtc.PeerConnection
	firstFrame chan time.Duration // when the first whole keyframe came, after the POST
	mime       atomic.Value
}

func newViewer(t *testing.T, endpoint, key string) (*whepViewer, *http.Response, string) {
	t.Helper()
	vp8 := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
		RTCPFeedback: []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}}, PayloadType: 97}
	pc, err := loopbackAPI(t, obsOpus, obsH264, vp8).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	v := &whepViewer{pc: pc, firstFrame: make(chan time.Duration, 1)}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			t.Fatal(err)
		}
	}
	mediatest.Gather(t, pc)()
	start := time.Now()
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		mime := strings.ToLower(tr.Codec().MimeType)
		keyStarted := false
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			if tr.Kind() != webrtc.RTPCodecTypeVideo {
				continue
			}
			v.mime.Store(mime)
			keyStarted = keyStarted || codec.KeyframeStart(mime, p.Payload)
			if keyStarted && p.Marker {
				select {
				case v.firstFrame <- time.Since(start):
				default:
				}
			}
		}
	})
	resp, body := streamRequest(t, "POST", endpoint, key, "application/sdp", pc.LocalDescription().SDP, nil)
	if resp.StatusCode == http.StatusCreated {
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body}); err != nil {
			t.Fatalf("set the WHEP answer: %v", err)
		}
	}
	return v, resp, body
}

// iceLink matches a Link header of an ICE server (RFC 9725 section 4.6).
var iceLink = regexp.MustCompile(`^<((?:stun|turn|turns):[^>]+)>; rel="ice-server"(?:; username="([^"]*)"; credential="([^"]*)"; credential-type="password")?$`)

// TestWHIPFromOBS: an encoder speaking exactly as OBS's WHIP output does
// (POST of application/sdp with a bearer key, a 201 with the answer, a
// relative Location and the ICE servers in Link headers, no trickle, and a
// DELETE that must answer 200) publishes H.264 and Opus to a lesson with a
// publishing key. A WHEP player made with pion, admitted by a viewing key,
// receives the teacher's H.264 and says how soon its first frame came; the
// viewer limit holds; DELETE ends the publication and the resource.
func TestWHIPFromOBS(t *testing.T) {
	site := startSiteWith(t, func(c *realtime.Config) {
		c.ICEServers = func(host, participant string) []protocol.ICEServer {
			return []protocol.ICEServer{{URLs: []string{"stun:" + host + ":3478"}},
				{URLs: []string{"turn:" + host + ":3478?transport=udp"}, Username: "1700000000:" + participant, Credential: "c2VjcmV0"}}
		}
	})
	lesson := site.createLesson(t)
	publish := site.makeKey(t, lesson.ID, lesson.Teacher.Token, "publish")
	view := site.makeKey(t, lesson.ID, lesson.Teacher.Token, "view")
	if !strings.HasSuffix(publish.URL, "/api/lessons/"+lesson.ID+"/whip") || !strings.HasSuffix(view.URL, "/whep") {
		t.Fatalf("the keys' URLs: %s, %s", publish.URL, view.URL)
	}

	obs := newOBS(t, true, true)
	resp, body := obs.connect(publish.URL, publish.Key)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST the offer: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/sdp" || !strings.HasPrefix(body, "v=0") {
		t.Fatalf("the answer: %q, %.40q", ct, body)
	}
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/api/lessons/"+lesson.ID+"/streams/") {
		t.Errorf("Location %q", loc)
	}
	if resp.Header.Get("ETag") == "" {
		t.Error("no ETag")
	}
	if !strings.Contains(body, "a=candidate:") {
		t.Error("the answer carries no candidate; an encoder that never trickles cannot connect")
	}
	var stun, turn bool
	for _, l := range obs.links {
		m := iceLink.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("Link %q is not an ICE server's", l)
			continue
		}
		stun = stun || strings.HasPrefix(m[1], "stun:")
		turn = turn || (strings.HasPrefix(m[1], "turn:") && m[2] != "" && m[3] != "")
	}
	if !stun || !turn {
		t.Errorf("Link headers %q: want a STUN and a TURN server with credentials", obs.links)
	}
	waitUntil(t, 20*time.Second, "the encoder to connect", func() bool {
		return obs.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
	obs.send()

	viewer, resp, body := newViewer(t, view.URL, view.Key)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHEP POST: %d %s", resp.StatusCode, body)
	}
	select {
	case d := <-viewer.firstFrame:
		t.Logf("the WHEP viewer's first frame came %v after its POST", d.Round(time.Millisecond))
	case <-time.After(20 * time.Second):
		t.Fatal("the WHEP viewer received no whole keyframe in 20 s")
	}
	if m := viewer.mime.Load(); m != "video/h264" {
		t.Errorf("the viewer receives %v, want video/h264", m)
	}
	second, resp, _ := newViewer(t, view.URL, view.Key)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("a second viewer: %d", resp.StatusCode)
	}
	_ = second
	if _, resp, body := newViewer(t, view.URL, view.Key); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "viewers") {
		t.Errorf("a viewer over the limit of %d: %d %s", siteMaxViewers, resp.StatusCode, body)
	}

	resp, body = streamRequest(t, "DELETE", obs.resource, publish.Key, "", "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
	if resp, _ := streamRequest(t, "DELETE", obs.resource, publish.Key, "", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE of an ended resource: %d, want 404", resp.StatusCode)
	}
	// The encoder may publish again once its stream has ended, with
	// either track absent.
	again := newOBS(t, true, false)
	if resp, body := again.connect(publish.URL, publish.Key); resp.StatusCode != http.StatusCreated {
		t.Fatalf("publish video only after DELETE: %d %s", resp.StatusCode, body)
	}
	if resp, body := streamRequest(t, "DELETE", again.resource, publish.Key, "", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
	if resp, body := newOBS(t, false, true).connect(publish.URL, publish.Key); resp.StatusCode != http.StatusCreated {
		t.Errorf("publish audio only: %d %s", resp.StatusCode, body)
	}
}

// TestWHIPRefusals: a wrong, revoked or misused key, a student's token, a
// body that is not SDP or not application/sdp, an offer of only codecs the
// server does not forward, a second publisher while one is live, and a
// DELETE of someone else's resource: each gets a clear HTTP error, and the
// lesson's log is what it was.
func TestWHIPRefusals(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	other := site.createLesson(t)
	publish := site.makeKey(t, lesson.ID, lesson.Teacher.Token, "publish")
	spare := site.makeKey(t, lesson.ID, lesson.Teacher.Token, "publish")
	view := site.makeKey(t, lesson.ID, lesson.Teacher.Token, "view")
	revoked := site.makeKey(t, lesson.ID, lesson.Teacher.Token, "publish")
	if resp, body := streamRequest(t, "DELETE", site.srv.URL+"/api/lessons/"+lesson.ID+"/keys/"+revoked.ID, lesson.Teacher.Token, "", "", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke a key: %d %s", resp.StatusCode, body)
	}
	logBefore := eventsOf(t, site, lesson.ID)

	good := newOBS(t, true, true).offer()
	av1Only := regexp.MustCompile(`(?m)^a=rtpmap:96 H264/90000`).ReplaceAllString(good, "a=rtpmap:96 AV1X/90000")
	av1Only = strings.ReplaceAll(av1Only, "opus/48000/2", "speex/48000")
	whip := publish.URL
	for _, c := range []struct {
		name, key, ct, body string
		status              int
		says                string
	}{
		{"no key", "", "application/sdp", good, 401, "Authorization"},
		{"a wrong key", "csk_nottherightkey", "application/sdp", good, 401, "not one of the lesson's"},
		{"a revoked key", revoked.Key, "application/sdp", good, 401, "revoked"},
		{"a viewing key", view.Key, "application/sdp", good, 403, "view key"},
		{"a student's token", lesson.Students.Token, "application/sdp", good, 403, "student"},
		{"another lesson's teacher", other.Teacher.Token, "application/sdp", good, 401, "teacher"},
		{"not application/sdp", publish.Key, "text/plain", good, 415, "application/sdp"},
		{"not SDP", publish.Key, "application/sdp", "hello, server", 400, "not SDP"},
		{"only unsupported codecs", publish.Key, "application/sdp", av1Only, 400, "codec"},
		{"a receiving offer", publish.Key, "application/sdp", strings.ReplaceAll(good, "a=sendonly", "a=recvonly"), 400, "sendonly"},
	} {
		resp, body := streamRequest(t, "POST", whip, c.key, c.ct, c.body, nil)
		if resp.StatusCode != c.status || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d %s; want %d saying %q", c.name, resp.StatusCode, body, c.status, c.says)
		}
	}

	live := newOBS(t, true, true)
	if resp, body := live.connect(whip, publish.Key); resp.StatusCode != http.StatusCreated {
		t.Fatalf("publish: %d %s", resp.StatusCode, body)
	}
	second := newOBS(t, true, true)
	if resp, body := second.connect(whip, spare.Key); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "another encoder") {
		t.Errorf("a second publisher: %d %s", resp.StatusCode, body)
	}
	otherResource := strings.Replace(live.resource, lesson.ID, other.ID, 1)
	for _, c := range []struct {
		name, url, key string
		status         int
	}{
		{"no key", live.resource, "", 401},
		{"another publishing key", live.resource, spare.Key, 403},
		{"a viewing key", live.resource, view.Key, 403},
		{"a student's token", live.resource, lesson.Students.Token, 403},
		{"another lesson's path", otherResource, other.Teacher.Token, 404},
		{"a made-up resource", site.srv.URL + "/api/lessons/" + lesson.ID + "/streams/not-a-stream", publish.Key, 404},
	} {
		if resp, body := streamRequest(t, "DELETE", c.url, c.key, "", "", nil); resp.StatusCode != c.status {
			t.Errorf("DELETE with %s: %d %s; want %d", c.name, resp.StatusCode, body, c.status)
		}
	}
	waitUntil(t, 20*time.Second, "the live encoder to connect", func() bool {
		return live.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
	if _, ok := site.streams.Get(mustUUID(t, live.resource[strings.LastIndex(live.resource, "/")+1:])); !ok {
		t.Fatal("a refused DELETE ended the stream")
	}
	// The teacher may end it with their own token.
	if resp, body := streamRequest(t, "DELETE", live.resource, lesson.Teacher.Token, "", "", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("the teacher's DELETE: %d %s", resp.StatusCode, body)
	}
	if after := eventsOf(t, site, lesson.ID); after != logBefore {
		t.Errorf("the lesson's log changed: %d events, then %d", logBefore, after)
	}
}

// eventsOf counts a lesson's stored events.
func eventsOf(t *testing.T, site *liveSite, lesson string) int {
	t.Helper()
	n := 0
	for _, err := range site.store.Events(context.Background(), mustUUID(t, lesson), 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// TestWHIPPatch: PATCH with the stream's ETag trickles candidates (204); a
// stale ETag is refused with 412, a missing If-Match with 428; an ICE
// restart (If-Match: *) answers the server's new credentials and changes
// the ETag.
func TestWHIPPatch(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	publish := site.makeKey(t, lesson.ID, lesson.Teacher.Token, "publish")
	obs := newOBS(t, true, false)
	resp, body := obs.connect(publish.URL, publish.Key)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("publish: %d %s", resp.StatusCode, body)
	}
	etag := resp.Header.Get("ETag")
	frag := "a=ice-ufrag:" + iceValue(obs.pc.LocalDescription().SDP, "a=ice-ufrag:") + "\r\n" +
		"a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n"
	sdpfrag := "application/trickle-ice-sdpfrag"
	if resp, body := streamRequest(t, "PATCH", obs.resource, publish.Key, sdpfrag, frag, nil); resp.StatusCode != http.StatusPreconditionRequired {
		t.Errorf("PATCH without If-Match: %d %s", resp.StatusCode, body)
	}
	if resp, body := streamRequest(t, "PATCH", obs.resource, publish.Key, sdpfrag, frag, http.Header{"If-Match": {`"stale"`}}); resp.StatusCode != http.StatusPreconditionFailed {
		t.Errorf("PATCH with a stale ETag: %d %s", resp.StatusCode, body)
	}
	if resp, body := streamRequest(t, "PATCH", obs.resource, publish.Key, sdpfrag, frag, http.Header{"If-Match": {etag}}); resp.StatusCode != http.StatusNoContent {
		t.Errorf("trickle: %d %s", resp.StatusCode, body)
	}
	restart := "a=ice-ufrag:restart1\r\na=ice-pwd:restartpasswordrestartpassword\r\n"
	resp, body = streamRequest(t, "PATCH", obs.resource, publish.Key, sdpfrag, restart, http.Header{"If-Match": {"*"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "a=ice-ufrag:") || !strings.Contains(body, "a=ice-pwd:") {
		t.Fatalf("ICE restart: %d %s", resp.StatusCode, body)
	}
	if e := resp.Header.Get("ETag"); e == "" || e == etag {
		t.Errorf("the ETag after a restart: %q (was %q)", e, etag)
	}
}

func iceValue(sdp, prefix string) string {
	for _, l := range strings.Split(sdp, "\r\n") {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			return v
		}
	}
	return ""
}

// TestWHEPInBrowser: a WHEP player in Chromium (its own RTCPeerConnection,
// no data channel), admitted by a viewing key, decodes the video of a
// teacher teaching from the lesson page (VP8, which may come after the
// player); DELETE ends its stream and frees its place. Played again while an
// encoder publishes, it decodes the encoder's H.264.
func TestWHEPInBrowser(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	view := site.makeKey(t, lesson.ID, lesson.Teacher.Token, "view")
	b := browser(t)
	teacher := newTab(t, b, "teacher")
	teacher.join(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Teacher.Token, "Ms Rivera")

	player := newTab(t, b, "player")
	if err := chromedp.Do(player.ctx, chromedp.Navigate(site.srv.URL+"/test/whep.html")); err != nil {
		t.Fatal(err)
	}
	type decoded struct {
		Frames, Width float64
		Codec         string
	}
	got := eval[struct {
		Status   int
		Channels int
		Body     string
	}](player, `watch(`+jsString(view.URL)+`, `+jsString(view.Key)+`)`)
	if got.Status != http.StatusCreated || got.Channels != 0 {
		t.Fatalf("the player's POST: %+v", got)
	}
	waitUntil(t, 30*time.Second, "the player to decode the teacher's camera", func() bool {
		d := eval[decoded](player, `decoded()`)
		return d.Frames > 0 && d.Width > 0
	})
	if n := site.streams.Viewers(mustUUID(t, lesson.ID)); n != 1 {
		t.Errorf("%d viewers counted, want 1", n)
	}
	// The player is in the lesson as a viewer, named for its key.
	viewers := `[...window.classroom.state.participants.values()].filter((p) => p.role === "viewer" && p.present).map((p) => p.name).join()`
	waitUntil(t, 10*time.Second, "the teacher's page to list the viewer", func() bool {
		return eval[string](teacher, viewers) == "a test's view key"
	})
	resource := eval[string](player, `window.resource`)
	if resp, body := streamRequest(t, "DELETE", resource, view.Key, "", "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
	if n := site.streams.Viewers(mustUUID(t, lesson.ID)); n != 0 {
		t.Errorf("%d viewers counted after DELETE, want 0", n)
	}
	waitUntil(t, 10*time.Second, "the viewer's leave to reach the teacher's page", func() bool {
		return eval[string](teacher, viewers) == ""
	})
	var joins, leaves int
	for e, err := range site.store.Events(context.Background(), mustUUID(t, lesson.ID), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Role == domain.RoleViewer {
			switch e.Payload.(type) {
			case *domain.ParticipantJoined:
				joins++
			case *domain.ParticipantLeft:
				leaves++
			}
		}
	}
	if joins != 1 || leaves != 1 {
		t.Errorf("the log has %d joins and %d leaves of viewers, want 1 and 1", joins, leaves)
	}

	publish := site.makeKey(t, lesson.ID, lesson.Teacher.Token, "publish")
	obs := newOBS(t, true, true)
	if resp, body := obs.connect(publish.URL, publish.Key); resp.StatusCode != http.StatusCreated {
		t.Fatalf("the encoder's POST: %d %s", resp.StatusCode, body)
	}
	obs.send()
	waitUntil(t, 20*time.Second, "the encoder to connect", func() bool {
		return obs.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
	time.Sleep(time.Second) // its tracks on stage
	h264 := func() bool {
		d := eval[decoded](player, `decoded()`)
		return d.Frames > 0 && d.Codec == "video/H264"
	}
	// A WHEP section takes the codec on stage when it is answered (docs/
	// protocol.md, section 10): a player that asked before the encoder's
	// tracks were on stage (a loaded machine) asks again.
	for attempt := 1; ; attempt++ {
		if got := eval[struct{ Status int }](player, `watch(`+jsString(view.URL)+`, `+jsString(view.Key)+`)`); got.Status != http.StatusCreated {
			t.Fatalf("the player's POST after the encoder's: %+v", got)
		}
		for end := time.Now().Add(15 * time.Second); time.Now().Before(end) && !h264(); {
			time.Sleep(200 * time.Millisecond)
		}
		if h264() {
			break
		}
		if attempt == 3 {
			t.Fatal("timed out waiting for the player to decode the encoder's H.264")
		}
		eval[bool](player, `(window.pc.close(), true)`)
	}
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestStreamKeysInBrowser: the teacher makes a publishing key in the
// lesson page's "Encoders and players" dialog, which shows the URL and the
// key to paste into OBS; an encoder publishes with them; revoking the key
// on the page ends that stream and the key admits no one after.
func TestStreamKeysInBrowser(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	teacher := newTab(t, browser(t), "teacher")
	teacher.join(site.srv.URL+"/lessons/"+lesson.ID+"#token="+lesson.Teacher.Token, "Ms Rivera")
	teacher.click("#more summary")
	teacher.click("#streams")
	if err := chromedp.Do(teacher.ctx, chromedp.WaitVisible(chromedp.ID("stream-label")),
		chromedp.SetValue(chromedp.ID("stream-label"), "OBS in room 12"), chromedp.Click(chromedp.ID("stream-make"))); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the key to be shown", func() bool {
		return eval[bool](teacher, `!document.getElementById("stream-made").hidden`)
	})
	endpoint := eval[string](teacher, `document.getElementById("stream-url").value`)
	key := eval[string](teacher, `document.getElementById("stream-key").value`)
	if !strings.HasSuffix(endpoint, "/api/lessons/"+lesson.ID+"/whip") || !strings.HasPrefix(key, "csk_") {
		t.Fatalf("the page shows %q and %q", endpoint, key)
	}
	if listed := eval[string](teacher, `document.getElementById("stream-keys").textContent`); !strings.Contains(listed, "OBS in room 12") {
		t.Fatalf("the keys listed: %q", listed)
	}
	obs := newOBS(t, true, false)
	resp, body := obs.connect(endpoint, key)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("publish with the page's key: %d %s", resp.StatusCode, body)
	}
	stream := mustUUID(t, obs.resource[strings.LastIndex(obs.resource, "/")+1:])

	eval[bool](teacher, `(window.confirm = () => true, true)`)
	teacher.click("#stream-keys button")
	waitUntil(t, 10*time.Second, "the key to be listed as revoked", func() bool {
		return strings.Contains(eval[string](teacher, `document.getElementById("stream-keys").textContent`), "revoked")
	})
	if _, live := site.streams.Get(stream); live {
		t.Error("the revoked key's stream is still live")
	}
	if resp, body := newOBS(t, true, false).connect(endpoint, key); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("publish with the revoked key: %d %s", resp.StatusCode, body)
	}
}

// TestViewerNotAbsent: a WHEP viewer has no session, yet the room does not
// record it as absent when it looks for the present with no session after
// opening; its leave comes when its stream ends.
func TestViewerNotAbsent(t *testing.T) {
	site := startSiteWith(t, func(c *realtime.Config) { c.AbsentAfter = 300 * time.Millisecond })
	lesson := site.createLesson(t)
	view := site.makeKey(t, lesson.ID, lesson.Teacher.Token, "view")
	if _, resp, body := newViewer(t, view.URL, view.Key); resp.StatusCode != http.StatusCreated {
		t.Fatalf("WHEP POST: %d %s", resp.StatusCode, body)
	}
	time.Sleep(time.Second) // past AbsentAfter
	for e, err := range site.store.Events(context.Background(), mustUUID(t, lesson.ID), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if _, left := e.Payload.(*domain.ParticipantLeft); left && e.Role == domain.RoleViewer {
			t.Fatalf("the watching viewer's leave was recorded: %+v", e.Payload)
		}
	}
}

// TestStreamsEndWithLesson: when the teacher ends the lesson, its encoder's
// and its viewers' streams end, and no new one starts (409).
func TestStreamsEndWithLesson(t *testing.T) {
	site := startSite(t)
	lesson := site.createLesson(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	teacher := teach(t, ctx, site, lesson, &domain.LessonStarted{})
	publish := site.makeKey(t, lesson.ID, lesson.Teacher.Token, "publish")
	view := site.makeKey(t, lesson.ID, lesson.Teacher.Token, "view")
	obs := newOBS(t, true, true)
	if resp, body := obs.connect(publish.URL, publish.Key); resp.StatusCode != http.StatusCreated {
		t.Fatalf("publish: %d %s", resp.StatusCode, body)
	}
	if _, resp, body := newViewer(t, view.URL, view.Key); resp.StatusCode != http.StatusCreated {
		t.Fatalf("view: %d %s", resp.StatusCode, body)
	}
	stream := mustUUID(t, obs.resource[strings.LastIndex(obs.resource, "/")+1:])
	if _, err := teacher.Send(ctx, &domain.LessonEnded{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "the streams to end with the lesson", func() bool {
		_, live := site.streams.Get(stream)
		return !live && site.streams.Viewers(mustUUID(t, lesson.ID)) == 0
	})
	if resp, body := newOBS(t, true, true).connect(publish.URL, publish.Key); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "ended") {
		t.Errorf("publish to an ended lesson: %d %s", resp.StatusCode, body)
	}
}
