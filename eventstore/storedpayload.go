package eventstore

import (
	"classroom/domain"
)

// A payload is stored as its JSON in the events' data column, except a
// stroke's points: those go to the points column in domain.Points' binary
// form (migration 00008), and the stroke's JSON holds "points":null. Reading
// a number back from the binary form is a load where JSON's decimal text
// takes a parse, and a long lesson's log is mostly strokes' numbers. Every
// other event, and every stroke stored before the migration, has no points
// column (NULL) and its JSON whole; both forms read back to the same event.

// encodeStored returns what a store keeps of a payload: its JSON, and for
// a stroke with points, the JSON without them and the points' binary form
// (nil for any other payload). The bound on an event's size is the whole
// payload's JSON, as domain.EncodePayload checks it; a stroke's points are
// not encoded as JSON for it unless their JSON could reach the bound
// (maxPointJSON), which a stroke as the board draws it is far from.
func encodeStored(p domain.Payload) (data, points []byte, err error) {
	s, ok := p.(*domain.StrokeDrawn)
	if !ok || len(s.Points) == 0 {
		data, err = domain.EncodePayload(p)
		return data, nil, err
	}
	rest := *s
	rest.Points = nil
	if data, err = domain.EncodePayload(&rest); err != nil {
		return nil, nil, err
	}
	if points, err = s.Points.AppendBinary(nil); err != nil {
		return nil, nil, err
	}
	// The whole JSON is data with its "null" replaced by the points' JSON,
	// "[" and "]" around at most maxPointJSON bytes a point.
	if len(data)-len("null")+2+len(s.Points)*maxPointJSON > domain.MaxEventBytes {
		if _, err := domain.EncodePayload(p); err != nil {
			return nil, nil, err
		}
	}
	return data, points, nil
}

// maxPointJSON is the most bytes a point that AppendBinary takes can write
// as JSON, with the comma before it: three numbers of at most 25 bytes
// ("-0.0000012345678901234567"), a time of at most 14 ("-1099511627776",
// the bound on a point's time), the brackets and three commas.
const maxPointJSON = 3*25 + 14 + 6

// decodeStored decodes a payload of kind k as a store keeps it: its JSON in
// data, and points the stroke's points in binary form, or nil (NULL) when
// the JSON holds them. Anything encodeStored cannot have written, such as
// points beside a payload that is not a stroke or beside a stroke whose
// JSON has points of its own, or a stroke with points in neither, is
// refused with CodeInvalid.
func decodeStored(k domain.Kind, data, points []byte) (domain.Payload, error) {
	p, err := domain.DecodePayload(k, data)
	if err != nil {
		return nil, err
	}
	s, ok := p.(*domain.StrokeDrawn)
	if points == nil {
		if ok && len(s.Points) == 0 {
			// No store wrote this (a stroke without points was never
			// valid): its points column was lost.
			return nil, domain.Errorf(domain.CodeInvalid, "a stroke has no points: none in its JSON, none stored apart")
		}
		return p, nil
	}
	switch {
	case !ok:
		return nil, domain.Errorf(domain.CodeInvalid, "a %s event has stored points", k)
	case s.Points != nil:
		return nil, domain.Errorf(domain.CodeInvalid, "a stroke has its points both in its JSON and stored apart")
	}
	if err := s.Points.UnmarshalBinary(points); err != nil {
		return nil, err
	}
	if len(s.Points) == 0 {
		return nil, domain.Errorf(domain.CodeInvalid, "a stroke's stored points are empty")
	}
	return s, nil
}
