package relay

import (
	"context"
	"fmt"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"classroom/media/sfu"
)

// Serve sends the tracks on stage to another node (named node) that opened
// conn, until conn, the connection or ctx ends, and returns why. It offers,
// and offers again whenever the tracks on stage change; the other node
// answers (see Pull). Serve closes conn.
func Serve(ctx context.Context, conn *websocket.Conn, stage *sfu.Stage, api *webrtc.API, node string) error {
	l := newLink(conn)
	defer l.close()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	// A data channel gives the first offer something to carry, so that the
	// link's transport starts before any track is on stage.
	if _, err := pc.CreateDataChannel("relay", nil); err != nil {
		pc.Close()
		return fmt.Errorf("relay: %w", err)
	}
	over := ended(pc)
	needed := make(chan struct{}, 1)
	needed <- struct{}{}
	pc.OnNegotiationNeeded(func() {
		select {
		case needed <- struct{}{}:
		default: // one is pending
		}
	})
	m := stage.JoinRelay(node, pc)
	defer func() {
		m.Leave()
		pc.Close()
		m.Wait()
	}()
	for {
		select {
		case <-needed:
			if err := offer(ctx, l, pc, over); err != nil {
				return err
			}
		case msg, ok := <-l.in:
			if !ok {
				return fmt.Errorf("relay: the link closed: %w", l.err)
			}
			return fmt.Errorf("relay: a %q out of turn", msg.Type)
		case <-over:
			return fmt.Errorf("relay: the connection to node %s failed", node)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// offer makes an offer of the tracks on stage now and sets its answer.
// pion asks for another offer, if one is still needed, once this one is
// answered.
func offer(ctx context.Context, l *link, pc *webrtc.PeerConnection, over <-chan struct{}) error {
	if pc.SignalingState() != webrtc.SignalingStateStable {
		return nil
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("relay: create an offer: %w", err)
	}
	msg, err := describe(pc, o)
	if err != nil {
		return err
	}
	if err := l.write(msg); err != nil {
		return fmt.Errorf("relay: send the offer: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, answerWait)
	defer cancel()
	answer, err := l.next(ctx, over)
	if err != nil {
		return err
	}
	if answer.Type != webrtc.SDPTypeAnswer.String() {
		return fmt.Errorf("relay: a %q instead of an answer", answer.Type)
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.SDP}); err != nil {
		return fmt.Errorf("relay: set the answer: %w", err)
	}
	return nil
}
