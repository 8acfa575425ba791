// Package jslimits writes the server's limits as a JavaScript module,
// web/static/js/limits.js, so that the browser client takes them from the
// constants the server enforces instead of copying them by hand. It owns only
// the list of limits the pages use and their rendering; it never decides a
// limit itself. go generate in web/ writes the module, and a test in web/
// fails when the module on disk differs from what Module renders.
package jslimits

import (
	"bytes"
	"fmt"

	"classroom/domain"
	"classroom/eventstore"
	"classroom/realtime/protocol"
	"classroom/web"
)

// Path is where the module lives, relative to the web package's directory.
const Path = "static/js/limits.js"

// limit is one constant as the pages see it.
type limit struct {
	js    string // the module's export
	from  string // the Go constant it is
	value any
}

// limits are the constants the pages use, grouped by the code that reads them.
var limits = []limit{
	// The fold of state.js.
	{"MAX_UNDO_DEPTH", "domain.MaxUndoDepth", domain.MaxUndoDepth},
	{"MAX_CHAT_MESSAGES_KEPT", "domain.MaxChatMessagesKept", domain.MaxChatMessagesKept},
	{"MAX_OBJECT_POINTS", "domain.MaxObjectPoints", domain.MaxObjectPoints},
	{"MAX_OBJECTS_PER_SLIDE", "domain.MaxObjectsPerSlide", domain.MaxObjectsPerSlide},
	{"MAX_DECKS", "domain.MaxDecks", domain.MaxDecks},
	{"MAX_PARTICIPANTS_KNOWN", "domain.MaxParticipantsKnown", domain.MaxParticipantsKnown},
	{"MAX_WAITING", "domain.MaxWaiting", domain.MaxWaiting},
	{"MAX_POLLS", "domain.MaxPolls", domain.MaxPolls},
	{"MAX_POLL_CHOICES", "domain.MaxPollChoices", domain.MaxPollChoices},
	{"MAX_QUESTION_RUNES", "domain.MaxQuestionRunes", domain.MaxQuestionRunes},
	{"MAX_CHOICE_RUNES", "domain.MaxChoiceRunes", domain.MaxChoiceRunes},
	{"MAX_ANSWER_RUNES", "domain.MaxAnswerRunes", domain.MaxAnswerRunes},
	{"MAX_GROUPS", "domain.MaxGroups", domain.MaxGroups},
	{"MAX_GROUP_MEMBERS", "domain.MaxGroupMembers", domain.MaxGroupMembers},
	{"MAX_GROUP_SECONDS", "domain.MaxGroupSeconds", domain.MaxGroupSeconds},
	{"MAX_RECALL_SECONDS", "domain.MaxRecallSeconds", domain.MaxRecallSeconds},
	{"MAX_BROADCAST_RUNES", "domain.MaxBroadcastRunes", domain.MaxBroadcastRunes},
	// The board's commands and previews.
	{"MAX_STROKE_POINTS", "domain.MaxStrokePoints", domain.MaxStrokePoints},
	{"MAX_ERASE_OBJECTS", "domain.MaxEraseObjects", domain.MaxEraseObjects},
	{"MAX_STROKE_WIDTH", "domain.MaxStrokeWidth", domain.MaxStrokeWidth},
	{"MAX_TEXT_RUNES", "domain.MaxTextRunes", domain.MaxTextRunes},
	{"MAX_PREVIEW_POINTS", "protocol.MaxPreviewPoints", protocol.MaxPreviewPoints},
	// Every command the page sends.
	{"MAX_COMMAND_BYTES", "protocol.MaxCommandBytes", protocol.MaxCommandBytes},
	// The largest message the server sends: a compressed one inflates to no more.
	{"MAX_SERVER_MESSAGE", "protocol.MaxServerMessage", protocol.MaxServerMessage},
	// Forms, slides and decks.
	{"MAX_CHAT_RUNES", "domain.MaxChatRunes", domain.MaxChatRunes},
	{"MAX_TITLE_RUNES", "domain.MaxTitleRunes", domain.MaxTitleRunes},
	{"MAX_NAME_RUNES", "domain.MaxNameRunes", domain.MaxNameRunes},
	{"MAX_WHITEBOARD_PAGES", "domain.MaxWhiteboardPages", domain.MaxWhiteboardPages},
	{"MAX_DECK_PAGES", "domain.MaxDeckPages", domain.MaxDeckPages},
	{"MAX_PAGE_BYTES", "eventstore.MaxPageBytes", eventstore.MaxPageBytes},
	{"MAX_DECK_BYTES", "eventstore.MaxDeckBytes", eventstore.MaxDeckBytes},
	{"MAX_PAGE_SIDE", "web.MaxPageSide", web.MaxPageSide},
}

// Module returns the text of limits.js.
func Module() []byte {
	var b bytes.Buffer
	b.WriteString(`// limits.js: the server's limits, for the pages to check what they send
// and to fold as the server folds. Generated from the Go constants named
// beside each by "go generate ./web/" (web/internal/jslimits); do not edit:
// a test fails when this file differs from what the constants give.

`)
	for _, l := range limits {
		fmt.Fprintf(&b, "export const %s = %v; // %s\n", l.js, l.value, l.from)
	}
	return b.Bytes()
}
