package eventstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
)

// Config chooses and configures a store.
type Config struct {
	// DatabaseURL selects PostgreSQL when not empty (a pgx connection string).
	DatabaseURL string
	// DataDir holds the SQLite file when DatabaseURL is empty.
	DataDir string
	// Logger receives the store's logs; nil means slog.Default().
	Logger *slog.Logger
}

func (c Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.Default()
	}
	return c.Logger
}

// Open migrates the database to the latest schema and opens the store:
// PostgreSQL when cfg.DatabaseURL is set, otherwise SQLite under cfg.DataDir.
func Open(ctx context.Context, cfg Config) (Store, error) {
	if cfg.DatabaseURL != "" {
		return OpenPostgres(ctx, cfg.DatabaseURL, cfg.logger())
	}
	return OpenSQLite(ctx, cfg.DataDir, cfg.logger())
}

// Migrate applies pending migrations to the configured database and returns
// the versions it applied.
func Migrate(ctx context.Context, cfg Config) ([]int64, error) {
	if cfg.DatabaseURL != "" {
		return migratePostgres(ctx, cfg.DatabaseURL)
	}
	return migrateSQLite(ctx, cfg.DataDir)
}

// migrate runs goose over an open database. A database a newer build has
// migrated past this build's last migration is refused: this build would
// misread what the newer one stores (since 00008, a stroke's points apart
// from its JSON).
func migrate(ctx context.Context, dialect goose.Dialect, db *sql.DB, files fs.FS, opts ...goose.ProviderOption) ([]int64, error) {
	p, err := goose.NewProvider(dialect, db, files, opts...)
	if err != nil {
		return nil, fmt.Errorf("prepare migrations: %w", err)
	}
	current, known, err := p.GetVersions(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the schema's version: %w", err)
	}
	if current > known {
		return nil, fmt.Errorf("the database's schema is at version %d, newer than this build's last migration (%d): "+
			"a newer version of classroom migrated it; run that version or a later one", current, known)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("apply migrations: %w", err)
	}
	versions := make([]int64, 0, len(results))
	for _, r := range results {
		versions = append(versions, r.Source.Version)
	}
	return versions, nil
}
