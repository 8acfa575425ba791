// limits.js: the server's limits, for the pages to check what they send
// and to fold as the server folds. Generated from the Go constants named
// beside each by "go generate ./web/" (web/internal/jslimits); do not edit:
// a test fails when this file differs from what the constants give.

export const MAX_UNDO_DEPTH = 200; // domain.MaxUndoDepth
export const MAX_CHAT_MESSAGES_KEPT = 10000; // domain.MaxChatMessagesKept
export const MAX_OBJECT_POINTS = 20000; // domain.MaxObjectPoints
export const MAX_OBJECTS_PER_SLIDE = 20000; // domain.MaxObjectsPerSlide
export const MAX_DECKS = 100; // domain.MaxDecks
export const MAX_PARTICIPANTS_KNOWN = 10000; // domain.MaxParticipantsKnown
export const MAX_WAITING = 1000; // domain.MaxWaiting
export const MAX_POLLS = 1000; // domain.MaxPolls
export const MAX_POLL_CHOICES = 10; // domain.MaxPollChoices
export const MAX_QUESTION_RUNES = 500; // domain.MaxQuestionRunes
export const MAX_CHOICE_RUNES = 200; // domain.MaxChoiceRunes
export const MAX_ANSWER_RUNES = 500; // domain.MaxAnswerRunes
export const MAX_GROUPS = 50; // domain.MaxGroups
export const MAX_GROUP_MEMBERS = 8; // domain.MaxGroupMembers
export const MAX_GROUP_SECONDS = 86400; // domain.MaxGroupSeconds
export const MAX_RECALL_SECONDS = 600; // domain.MaxRecallSeconds
export const MAX_BROADCAST_RUNES = 2000; // domain.MaxBroadcastRunes
export const MAX_STROKE_POINTS = 1000; // domain.MaxStrokePoints
export const MAX_ERASE_OBJECTS = 1000; // domain.MaxEraseObjects
export const MAX_STROKE_WIDTH = 200; // domain.MaxStrokeWidth
export const MAX_TEXT_RUNES = 2000; // domain.MaxTextRunes
export const MAX_PREVIEW_POINTS = 200; // protocol.MaxPreviewPoints
export const MAX_COMMAND_BYTES = 66560; // protocol.MaxCommandBytes
export const MAX_SERVER_MESSAGE = 67072; // protocol.MaxServerMessage
export const MAX_CHAT_RUNES = 2000; // domain.MaxChatRunes
export const MAX_TITLE_RUNES = 200; // domain.MaxTitleRunes
export const MAX_NAME_RUNES = 100; // domain.MaxNameRunes
export const MAX_WHITEBOARD_PAGES = 1000; // domain.MaxWhiteboardPages
export const MAX_DECK_PAGES = 1000; // domain.MaxDeckPages
export const MAX_PAGE_BYTES = 10485760; // eventstore.MaxPageBytes
export const MAX_DECK_BYTES = 104857600; // eventstore.MaxDeckBytes
export const MAX_PAGE_SIDE = 8192; // web.MaxPageSide
