package relay

import (
	"context"
	"fmt"
	"sync"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"classroom/media/sfu"
)

// Pull receives the tracks another node's stage sends over conn (see
// Serve) and publishes them on stage, each as a track of its publisher's
// participant, until conn, the connection or ctx ends, and returns why.
// Pull closes conn; the tracks it published leave the stage.
func Pull(ctx context.Context, conn *websocket.Conn, stage *sfu.Stage, api *webrtc.API) error {
	l := newLink(conn)
	defer l.close()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	over := ended(pc)
	var (
		mu        sync.Mutex
		members   = map[string]*sfu.Member{} // the other node's publishers
		finishing bool
	)
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		participant := t.StreamID() // the sending stage names each track's publisher so
		mu.Lock()
		if finishing {
			mu.Unlock()
			return
		}
		m, ok := members[participant]
		if !ok {
			m = stage.JoinRelayed(participant, pc)
			members[participant] = m
		}
		mu.Unlock()
		m.Publish(t, r)
	})
	defer func() {
		mu.Lock()
		finishing = true
		mu.Unlock()
		for _, m := range members {
			m.Leave()
		}
		pc.Close()
		for _, m := range members {
			m.Wait()
		}
	}()
	for {
		msg, err := l.next(ctx, over)
		if err != nil {
			return err
		}
		if msg.Type != webrtc.SDPTypeOffer.String() {
			return fmt.Errorf("relay: a %q instead of an offer", msg.Type)
		}
		if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: msg.SDP}); err != nil {
			return fmt.Errorf("relay: set the offer: %w", err)
		}
		a, err := pc.CreateAnswer(nil)
		if err != nil {
			return fmt.Errorf("relay: create an answer: %w", err)
		}
		answer, err := describe(pc, a)
		if err != nil {
			return err
		}
		if err := l.write(answer); err != nil {
			return fmt.Errorf("relay: send the answer: %w", err)
		}
	}
}
