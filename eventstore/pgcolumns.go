package eventstore

import (
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// column is one column of a flush's events as an array parameter
// (eventArrays). pgx encodes an array through pgtype.ArrayGetter, whose
// Index returns each element as an interface value; for a plain slice
// (pgtype.FlatArray) that boxes every string, time and number, and for
// other slices it goes through reflect: about ten allocations an event,
// half of what a flush allocated. A column's Index returns a columnRef
// instead, one pointer into the slice, which an interface holds without an
// allocation; pgx reads the element through the Valuer method of the
// parameter's type. T is string (text), int64 (bigint), int16 (smallint),
// uuid.UUID (uuid), time.Time (timestamptz) or []byte (bytea, nil for NULL).
type column[T any] []T

func (c column[T]) Dimensions() []pgtype.ArrayDimension {
	return []pgtype.ArrayDimension{{Length: int32(len(c)), LowerBound: 1}}
}
func (c column[T]) Index(i int) any { return columnRef[T]{&c[i]} }
func (c column[T]) IndexType() any  { return columnRef[T]{} }

// columnRef is one element of a column.
type columnRef[T any] struct{ p *T }

// TextValue implements pgtype.TextValuer.
func (r columnRef[T]) TextValue() (pgtype.Text, error) {
	if s, ok := any(r.p).(*string); ok {
		return pgtype.Text{String: *s, Valid: true}, nil
	}
	return pgtype.Text{}, r.mismatch("text")
}

// Int64Value implements pgtype.Int64Valuer.
func (r columnRef[T]) Int64Value() (pgtype.Int8, error) {
	switch n := any(r.p).(type) {
	case *int64:
		return pgtype.Int8{Int64: *n, Valid: true}, nil
	case *int16:
		return pgtype.Int8{Int64: int64(*n), Valid: true}, nil
	}
	return pgtype.Int8{}, r.mismatch("an integer")
}

// UUIDValue implements pgtype.UUIDValuer.
func (r columnRef[T]) UUIDValue() (pgtype.UUID, error) {
	if id, ok := any(r.p).(*uuid.UUID); ok {
		return pgtype.UUID{Bytes: *id, Valid: true}, nil
	}
	return pgtype.UUID{}, r.mismatch("a uuid")
}

// TimestamptzValue implements pgtype.TimestamptzValuer.
func (r columnRef[T]) TimestamptzValue() (pgtype.Timestamptz, error) {
	if t, ok := any(r.p).(*time.Time); ok {
		return pgtype.Timestamptz{Time: *t, Valid: true}, nil
	}
	return pgtype.Timestamptz{}, r.mismatch("a timestamptz")
}

// BytesValue implements pgtype.BytesValuer.
func (r columnRef[T]) BytesValue() ([]byte, error) {
	if b, ok := any(r.p).(*[]byte); ok {
		return *b, nil
	}
	return nil, r.mismatch("a bytea")
}

func (r columnRef[T]) mismatch(want string) error {
	return fmt.Errorf("a column of %T sent as %s", *new(T), want)
}
