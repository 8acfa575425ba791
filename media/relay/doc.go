// Package relay carries a lesson's stage from one server node to another:
// one WebRTC connection per lesson and pair of nodes, on which the node
// where tracks are published sends one copy of each track on its stage
// (Serve), and the node that needs them (it has subscribers of the lesson,
// or records it) receives them as publications of its own stage (Pull), so
// that its participants and its recorder take them like any other.
// Keyframe requests of the receiving node's subscribers reach the publisher
// over the connection's RTCP; packets lost between the nodes are asked for
// again with NACKs and answered from the sending node's cache. The offers
// and answers go over a WebSocket the receiving node opened; finding the
// nodes, authenticating them and opening that WebSocket is the caller's.
// The package never decides who is on stage, and never relays a track that
// came over a relay itself.
package relay
