// Package cluster coordinates the server nodes that share one PostgreSQL
// database: it owns the node registry (which nodes are alive, their internal
// addresses, capacities and loads, whether they are draining), the lesson
// leases that make one node at a time the decider of a lesson, each node's
// life lock (which tells a killed node from a slow one), and the
// authentication of requests between nodes. It talks to PostgreSQL only,
// through pgx; it must never import realtime, media or web, and it never
// decides anything about a lesson's content.
package cluster
