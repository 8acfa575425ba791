package sfu

import "classroom/media"

// Subscribe adds a subscriber that takes the stage's tracks other than
// through a participant's connection (a recorder), and tells it at once
// what is on stage. Close tells it the stage closed, and waits for it.
func (s *Stage) Subscribe(sub media.Subscriber) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		sub.OnStage(nil)
		sub.StageClosed()
		return
	}
	defer s.mu.Unlock()
	s.subs = append(s.subs, sub)
	sub.OnStage(s.tracksOnStage())
}

// Unsubscribe removes a subscriber Subscribe added, before the stage
// closes (a WHEP viewer that leaves): it is told nothing more, neither
// OnStage nor StageClosed. It reports whether the subscriber was there.
func (s *Stage) Unsubscribe(sub media.Subscriber) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.subs {
		if x == sub {
			s.subs = append(s.subs[:i:i], s.subs[i+1:]...)
			return true
		}
	}
	return false
}

// tellSubscribers tells every subscriber what is on stage now. Called by
// reconcile with s.mu held.
func (s *Stage) tellSubscribers() {
	if len(s.subs) == 0 {
		return
	}
	tracks := s.tracksOnStage()
	for _, sub := range s.subs {
		sub.OnStage(tracks)
	}
}

// tracksOnStage returns the first layer of every live track of everyone on
// the main stage, and of everyone in a breakout group labelled with the
// group (media.Track.Group): what subscribers are offered. Called with s.mu
// held.
func (s *Stage) tracksOnStage() []media.Track {
	var tracks []media.Track
	labelled := map[*publication]*groupTrack{}
	for m := range s.members {
		group := s.groups[m.id]
		if group == "" && !s.onStage[m.id] {
			continue
		}
		seen := map[string]bool{}
		for _, pub := range m.pubs {
			if seen[pub.source()] {
				continue // another simulcast layer: subscribers take the first
			}
			seen[pub.source()] = true
			switch {
			case !s.live(pub):
			case group == "":
				tracks = append(tracks, pub)
			default:
				t := s.labelled[pub]
				if t == nil || t.group != group {
					t = &groupTrack{publication: pub, group: group}
				}
				labelled[pub] = t
				tracks = append(tracks, t)
			}
		}
	}
	s.labelled = labelled
	return tracks
}

// groupTrack is a track published in a breakout group as subscribers are
// offered it: the publication, labelled with its group. A track that moves
// to another group (or to the main stage) is offered as another track, so
// that a recorder starts a file labelled anew.
type groupTrack struct {
	*publication
	group string
}

// Group is the breakout group the track is published in.
func (t *groupTrack) Group() string { return t.group }

// MainStage returns the tracks of the main stage among those a stage
// offers: what a viewer of the lesson, who is in no group, is shown.
func MainStage(tracks []media.Track) []media.Track {
	var main []media.Track
	for _, t := range tracks {
		if t.Group() == "" {
			main = append(main, t)
		}
	}
	return main
}
