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
// stage: what subscribers are offered. Called with s.mu held.
func (s *Stage) tracksOnStage() []media.Track {
	var tracks []media.Track
	for m := range s.members {
		if !s.onStage[m.id] {
			continue
		}
		seen := map[string]bool{}
		for _, pub := range m.pubs {
			if seen[pub.source()] {
				continue // another simulcast layer: subscribers take the first
			}
			seen[pub.source()] = true
			if s.staged(pub) {
				tracks = append(tracks, pub)
			}
		}
	}
	return tracks
}
