package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations are applied in order, each once, recorded in
// webhookd_migrations. Never edit one that has shipped: add the next.
//
// Positions (pos) are the appending transaction's xid8 shifted left by
// posShift, plus the event's index within the append (see read.go for why
// that makes the global order gap-free).
var migrations = []string{
	1: `
CREATE TABLE webhookd_events (
	pos      bigint PRIMARY KEY,
	stream   text NOT NULL,
	revision bigint NOT NULL,
	id       uuid NOT NULL,
	type     text NOT NULL,
	data     bytea NOT NULL,
	metadata bytea NOT NULL,
	created  timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT webhookd_events_stream_revision UNIQUE (stream, revision),
	CONSTRAINT webhookd_events_id UNIQUE (id)
);

-- The head of every stream, kept even when retention removed its events.
CREATE TABLE webhookd_streams (
	stream        text PRIMARY KEY,
	last_revision bigint NOT NULL
);

-- Retention by category, and how far the sweep has looked.
CREATE TABLE webhookd_retention (
	category   text PRIMARY KEY,
	max_age_ns bigint NOT NULL,
	swept_pos  bigint NOT NULL DEFAULT 0
);

-- webhookd_replayed returns the last revision and position of p_ids when
-- the stream holds exactly them from revision p_from on, else no row.
CREATE FUNCTION webhookd_replayed(p_stream text, p_from bigint, p_ids uuid[],
	OUT o_last bigint, OUT o_pos bigint)
LANGUAGE sql STABLE AS $$
	SELECT max(e.revision), max(e.pos)
	FROM webhookd_events e
	JOIN unnest(p_ids) WITH ORDINALITY AS u(id, ord) ON e.id = u.id
	WHERE e.stream = p_stream AND e.revision = p_from + u.ord - 1
	HAVING count(*) = cardinality(p_ids)
$$;

-- webhookd_append is one Append, in one statement and so one transaction.
-- p_expect: 0 any, 1 no stream, 2 stream exists, 3 exact (p_rev).
-- o_status: 0 written, 1 idempotent replay, 2 wrong expected version
-- (o_last is then the stream's last revision, -1 for none).
--
-- The stream lock is taken before the transaction has an xid, and the xid
-- is taken after it: so a later append to a stream always gets a larger
-- xid, hence larger positions, than an earlier one.
CREATE FUNCTION webhookd_append(p_stream text, p_expect int, p_rev bigint,
	p_ids uuid[], p_types text[], p_data bytea[], p_meta bytea[],
	OUT o_status int, OUT o_last bigint, OUT o_pos bigint)
LANGUAGE plpgsql AS $$
DECLARE
	cur  bigint;
	n    int := cardinality(p_ids);
	frm  bigint;
	base bigint;
	ok   bool;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtextextended(p_stream, 0));
	SELECT s.last_revision INTO cur FROM webhookd_streams s WHERE s.stream = p_stream;
	IF NOT FOUND THEN
		cur := -1;
	END IF;
	IF p_expect IN (0, 2) THEN
		SELECT e.revision INTO frm FROM webhookd_events e WHERE e.id = p_ids[1] AND e.stream = p_stream;
		IF FOUND THEN
			SELECT r.o_last, r.o_pos INTO o_last, o_pos FROM webhookd_replayed(p_stream, frm, p_ids) r;
			IF o_pos IS NOT NULL THEN
				o_status := 1;
				RETURN;
			END IF;
		END IF;
	END IF;
	ok := CASE p_expect WHEN 1 THEN cur < 0 WHEN 2 THEN cur >= 0 WHEN 3 THEN cur = p_rev ELSE true END;
	IF NOT ok THEN
		IF p_expect IN (1, 3) THEN
			frm := CASE WHEN p_expect = 1 THEN 0 ELSE p_rev + 1 END;
			IF cur >= frm + n - 1 THEN
				SELECT r.o_last, r.o_pos INTO o_last, o_pos FROM webhookd_replayed(p_stream, frm, p_ids) r;
				IF o_pos IS NOT NULL THEN
					o_status := 1;
					RETURN;
				END IF;
			END IF;
		END IF;
		o_status := 2;
		o_last := cur;
		o_pos := NULL;
		RETURN;
	END IF;
	base := pg_current_xact_id()::text::bigint << 20;
	INSERT INTO webhookd_events (pos, stream, revision, id, type, data, metadata)
	SELECT base + u.ord - 1, p_stream, cur + u.ord, u.id, u.typ, u.dat, u.met
	FROM unnest(p_ids, p_types, p_data, p_meta) WITH ORDINALITY AS u(id, typ, dat, met, ord);
	INSERT INTO webhookd_streams (stream, last_revision) VALUES (p_stream, cur + n)
	ON CONFLICT (stream) DO UPDATE SET last_revision = excluded.last_revision;
	o_status := 0;
	o_last := cur + n;
	o_pos := base + n - 1;
END
$$;
`,
}

// migrationLock is the two-key advisory lock (a key space apart from the
// one-key stream locks) that serialises instances migrating at once.
const migrationLock = `SELECT pg_advisory_xact_lock(hashtext('webhookd'), 1)`

// migrate brings the schema up to date in one transaction under an
// advisory lock, so two instances starting together apply each migration
// once, and a failed migration leaves the previous version intact.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, migrationLock); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS webhookd_migrations (
			version int PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create migrations table: %w", err)
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM webhookd_migrations`).Scan(&have); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if have >= len(migrations) {
			return fmt.Errorf("schema version %d is newer than this webhookd (%d)", have, len(migrations)-1)
		}
		for v := have + 1; v < len(migrations); v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO webhookd_migrations (version) VALUES ($1)`, v); err != nil {
				return fmt.Errorf("record migration %d: %w", v, err)
			}
		}
		return nil
	})
}
