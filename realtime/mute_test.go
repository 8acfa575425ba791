package realtime_test

import (
	"context"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"classroom/domain"
	"classroom/media/mediatest"
)

// lastPacket is when the latest packet of a publisher's tracks of a kind arrived.
func (rc *receiver) lastPacket(publisher string, kind webrtc.RTPCodecType) time.Time {
	var last time.Time
	for _, r := range rc.from(publisher, kind) {
		r.mu.Lock()
		if r.lastAt.After(last) {
			last = r.lastAt
		}
		r.mu.Unlock()
	}
	return last
}

// TestMute: the teacher mutes the microphone of the student with the floor
// and, within 200 ms of the command, none of its packets reach the teacher
// any more while the camera goes on; the student unmutes and is heard
// again; "mute everyone" stops the camera too; the student's page is told
// by the event.
func TestMute(t *testing.T) {
	ls := startServer(t, openStore(t, "sqlite"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	teacher, teacherRx := ls.joinMedia(ctx, domain.RoleTeacher, "Ms Lovelace")
	mustSend(t, ctx, teacher, &domain.LessonStarted{})
	ada, _ := ls.joinMedia(ctx, domain.RoleStudent, "Ada")
	mediatest.Start(t, ada.AddTrack, "ada", 30, 2000)
	waitFor(t, 10*time.Second, "Ada's camera to be negotiated", func() bool { return negotiated(ada) })
	mustSend(t, ctx, teacher, &domain.FloorGranted{Participant: ada.Participant()})
	flowing := func(kind webrtc.RTPCodecType) func() bool {
		return func() bool { return teacherRx.flowing(ada.Participant(), kind) }
	}
	waitFor(t, 20*time.Second, "the teacher to hear Ada", flowing(webrtc.RTPCodecTypeAudio))
	waitFor(t, 20*time.Second, "the teacher to see Ada", flowing(webrtc.RTPCodecTypeVideo))

	asked := time.Now()
	mustSend(t, ctx, teacher, &domain.MediaMuted{Participant: ada.Participant(), Audio: true})
	time.Sleep(time.Second)
	last := teacherRx.lastPacket(ada.Participant(), webrtc.RTPCodecTypeAudio)
	if d := last.Sub(asked); d > 200*time.Millisecond {
		t.Fatalf("Ada's microphone reached the teacher %v after the mute", d)
	}
	t.Logf("the last packet of Ada's microphone arrived %v after the mute was sent", last.Sub(asked))
	if !teacherRx.flowing(ada.Participant(), webrtc.RTPCodecTypeVideo) {
		t.Fatal("muting the microphone stopped the camera")
	}
	waitFor(t, 10*time.Second, "Ada's page to know she is muted", func() bool {
		p := ada.State().Participants[ada.Participant()]
		return p != nil && p.AudioMuted
	})
	if _, err := send(ctx, teacher, &domain.MediaUnmuted{Audio: true}); domain.ErrorCode(err) != domain.CodeConflict {
		t.Fatalf("the teacher unmuting Ada: %v, want conflict", err)
	}

	mustSend(t, ctx, ada, &domain.MediaUnmuted{Audio: true})
	waitFor(t, 20*time.Second, "the teacher to hear Ada again", flowing(webrtc.RTPCodecTypeAudio))

	asked = time.Now()
	mustSend(t, ctx, teacher, &domain.MediaMuted{Audio: true, Video: true})
	time.Sleep(time.Second)
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if d := teacherRx.lastPacket(ada.Participant(), kind).Sub(asked); d > 200*time.Millisecond {
			t.Fatalf("Ada's %s reached the teacher %v after muting everyone", kind, d)
		}
	}
}
