-- +goose Up
-- ANALYZE of events, which autovacuum runs as the table grows, samples 300
-- rows for each unit of the largest statistics target among the table's
-- columns: 30,000 rows at PostgreSQL's default of 100. On the benchmark
-- machine that analyze cost 0.05-0.14 s of CPU in one burst of 0.1-0.4 s,
-- most of what autovacuum spends on the table (its vacuum 0.01-0.05 s),
-- taken from the appends running beside it; landing in a run offered at
-- 80 % of the store's maximum, a vacuum and analyze put the run's p99 at
-- 27-82 ms (docs/benchmarks.md, the store's tail and autovacuum). At 10 the
-- sample is 3,000 rows and the analyze's CPU about 0.01 s. The same runs
-- then had a lower p99 in 19 of 19 pairs with the vacuum and analyze
-- started by hand (median 18.6 against 49.4 ms) and in 9 of 11 with
-- autovacuum itself visiting every second (19.9 against 40.2 ms), while
-- appends and the store's maximum stayed where they were; it does not keep
-- the p99 under 20 ms in every run. The store reads events only by their
-- key's leading lesson_id (with seq or event_id), whose plans are the same
-- at 10 as at 100; data and points are never filtered or joined on and
-- keep no statistics at all. A column added to events later must be given
-- a target of 10 or less too, or the sample is back at 30,000 rows: it
-- follows the table's largest target. Setting a target takes only a SHARE
-- UPDATE EXCLUSIVE lock: appends go on meanwhile.
ALTER TABLE events
    ALTER COLUMN lesson_id SET STATISTICS 10,
    ALTER COLUMN seq SET STATISTICS 10,
    ALTER COLUMN event_id SET STATISTICS 10,
    ALTER COLUMN version SET STATISTICS 10,
    ALTER COLUMN kind SET STATISTICS 10,
    ALTER COLUMN actor SET STATISTICS 10,
    ALTER COLUMN role SET STATISTICS 10,
    ALTER COLUMN at SET STATISTICS 10,
    ALTER COLUMN data SET STATISTICS 0,
    ALTER COLUMN points SET STATISTICS 0;

-- +goose Down
ALTER TABLE events
    ALTER COLUMN lesson_id SET STATISTICS -1,
    ALTER COLUMN seq SET STATISTICS -1,
    ALTER COLUMN event_id SET STATISTICS -1,
    ALTER COLUMN version SET STATISTICS -1,
    ALTER COLUMN kind SET STATISTICS -1,
    ALTER COLUMN actor SET STATISTICS -1,
    ALTER COLUMN role SET STATISTICS -1,
    ALTER COLUMN at SET STATISTICS -1,
    ALTER COLUMN data SET STATISTICS -1,
    ALTER COLUMN points SET STATISTICS -1;
