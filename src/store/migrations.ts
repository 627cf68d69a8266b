import type { Db } from './db';

/**
 * Schema versions, applied in order at start-up inside one transaction each. Never edit a
 * released step: add a new one.
 *
 * `resources` holds the current version of each resource; `resource_history` the versions it
 * replaced, so a create (the common case when feeds load) writes the document once.
 * The `sp_*` tables are the search index, one row per indexed value, filled at write time from
 * the R4 SearchParameter definitions.
 */
/**
 * Each word of a stored person's name gets its own search row (exact = '' marks a word row), as
 * `addNameWords` in index-rows.ts writes them: same types, parameters and rule. Exported for its test.
 */
export const NAME_WORD_ROWS = `
  INSERT INTO sp_string (resource_type, id, param, norm, exact)
  SELECT DISTINCT s.resource_type, s.id, s.param, w.word, ''
  FROM sp_string s CROSS JOIN LATERAL regexp_split_to_table(s.norm, ' ') AS w(word)
  WHERE s.resource_type IN ('Patient', 'Person', 'Practitioner', 'RelatedPerson')
    AND s.param IN ('name', 'phonetic', 'given', 'family')
    AND s.exact <> '' AND s.norm LIKE '% %'
`;

const STEPS: string[] = [
  `
  CREATE TABLE resources (
    resource_type text NOT NULL,
    id text NOT NULL,
    version_id integer NOT NULL,
    last_updated timestamptz NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    content jsonb,
    PRIMARY KEY (resource_type, id)
  );
  CREATE INDEX resources_type_updated ON resources (resource_type, last_updated);
  CREATE INDEX resources_updated ON resources (last_updated);

  CREATE TABLE resource_history (
    resource_type text NOT NULL,
    id text NOT NULL,
    version_id integer NOT NULL,
    last_updated timestamptz NOT NULL,
    deleted boolean NOT NULL DEFAULT false,
    content jsonb,
    PRIMARY KEY (resource_type, id, version_id)
  );
  CREATE INDEX resource_history_updated ON resource_history (last_updated);

  CREATE TABLE sp_string (resource_type text NOT NULL, id text NOT NULL, param text NOT NULL, norm text NOT NULL, exact text NOT NULL);
  CREATE INDEX sp_string_norm ON sp_string (resource_type, param, norm text_pattern_ops);
  CREATE INDEX sp_string_res ON sp_string (resource_type, id);

  CREATE TABLE sp_token (resource_type text NOT NULL, id text NOT NULL, param text NOT NULL, system text, code text, display text);
  CREATE INDEX sp_token_code ON sp_token (resource_type, param, code, system);
  CREATE INDEX sp_token_res ON sp_token (resource_type, id);

  CREATE TABLE sp_date (resource_type text NOT NULL, id text NOT NULL, param text NOT NULL, lo timestamptz NOT NULL, hi timestamptz NOT NULL);
  CREATE INDEX sp_date_lo ON sp_date (resource_type, param, lo);
  CREATE INDEX sp_date_hi ON sp_date (resource_type, param, hi);
  CREATE INDEX sp_date_res ON sp_date (resource_type, id);

  CREATE TABLE sp_number (resource_type text NOT NULL, id text NOT NULL, param text NOT NULL, value numeric NOT NULL);
  CREATE INDEX sp_number_value ON sp_number (resource_type, param, value);
  CREATE INDEX sp_number_res ON sp_number (resource_type, id);

  CREATE TABLE sp_quantity (resource_type text NOT NULL, id text NOT NULL, param text NOT NULL, value numeric NOT NULL, system text, code text, unit text);
  CREATE INDEX sp_quantity_value ON sp_quantity (resource_type, param, value);
  CREATE INDEX sp_quantity_res ON sp_quantity (resource_type, id);

  CREATE TABLE sp_reference (resource_type text NOT NULL, id text NOT NULL, param text NOT NULL, target_type text, target_id text, url text);
  CREATE INDEX sp_reference_target ON sp_reference (target_id, target_type, param, resource_type);
  CREATE INDEX sp_reference_url ON sp_reference (url) WHERE url IS NOT NULL;
  CREATE INDEX sp_reference_res ON sp_reference (resource_type, id);

  CREATE TABLE sp_uri (resource_type text NOT NULL, id text NOT NULL, param text NOT NULL, value text NOT NULL);
  CREATE INDEX sp_uri_value ON sp_uri (resource_type, param, value text_pattern_ops);
  CREATE INDEX sp_uri_res ON sp_uri (resource_type, id);
  `,
  // The intake's message log: every message as received, before it is answered.
  `
  CREATE TABLE ingest_messages (
    id text PRIMARY KEY,
    feed text NOT NULL,
    facility text NOT NULL,
    source_key text,
    content_type text,
    declared_charset text,
    detected_charset text,
    received_at timestamptz NOT NULL,
    checksum text NOT NULL,
    size integer NOT NULL,
    raw bytea,
    status text NOT NULL,
    duplicate_of text,
    units jsonb,
    outcome jsonb,
    processed_at timestamptz,
    attempts integer NOT NULL DEFAULT 0
  );
  CREATE INDEX ingest_messages_checksum ON ingest_messages (checksum, feed);
  CREATE INDEX ingest_messages_source ON ingest_messages (source_key, feed) WHERE source_key IS NOT NULL;
  CREATE INDEX ingest_messages_status ON ingest_messages (status, facility, received_at);
  CREATE INDEX ingest_messages_received ON ingest_messages (received_at);
  `,
  // Counts cache invalidations an instance could not deliver (see cache-epoch.ts).
  `CREATE SEQUENCE IF NOT EXISTS cache_epoch`,
  // Choices made once per database, such as its id scheme (store/settings.ts).
  `CREATE TABLE IF NOT EXISTS settings (key text PRIMARY KEY, value text NOT NULL)`,
  // Recovery while running: a message being processed is claimed, so no pass (of this or another
  // gateway) takes it up again until the claim is stale; attempts count the starts.
  `
  ALTER TABLE ingest_messages ADD COLUMN claimed_at timestamptz;
  UPDATE ingest_messages SET claimed_at = received_at WHERE status = 'received'
  `,
  // A large raw message on the embedded store lives in a file named by its sha256, not in the WASM heap.
  `
  ALTER TABLE ingest_messages ADD COLUMN raw_file text
  `,
  NAME_WORD_ROWS,
  // The keys the gateway signs access tokens with (when AUTH_SIGNING_KEY_FILE gives none).
  `
  CREATE TABLE auth_signing_keys (
    kid text PRIMARY KEY,
    jwk jsonb NOT NULL,
    created_at timestamptz NOT NULL
  );
  `,
  // One version per Patient compartment, raised by every write touching it (store/compartment-version.ts).
  `CREATE TABLE compartment_versions (patient_id text PRIMARY KEY, version bigint NOT NULL)`,
  // The audit trail: append-only rows written in batches, searched as AuditEvent (store/audit-events.ts).
  `
  CREATE TABLE audit_events (
    id text PRIMARY KEY,
    recorded timestamptz NOT NULL,
    interaction text NOT NULL,
    action text NOT NULL,
    status integer NOT NULL,
    client_id text NOT NULL,
    facility text NOT NULL,
    remote_address text,
    patients text[] NOT NULL DEFAULT '{}',
    target text,
    query text
  );
  CREATE INDEX audit_events_recorded ON audit_events (recorded);
  CREATE INDEX audit_events_client ON audit_events (client_id, recorded);
  CREATE INDEX audit_events_facility ON audit_events (facility, recorded);
  CREATE INDEX audit_events_patients ON audit_events USING gin (patients)
  `,
  // Subscriptions (#16): notifications written in the transaction of the change they announce,
  // and per subscription its delivery state (lease, failures, backoff), claimed with SKIP LOCKED.
  `
  CREATE TABLE subscription_outbox (
    seq bigserial PRIMARY KEY,
    subscription_id text NOT NULL,
    resource_type text NOT NULL,
    id text NOT NULL,
    version_id integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  );
  CREATE INDEX subscription_outbox_order ON subscription_outbox (subscription_id, seq);
  CREATE TABLE subscription_delivery (
    subscription_id text PRIMARY KEY,
    failures integer NOT NULL DEFAULT 0,
    failing_since timestamptz,
    next_attempt timestamptz NOT NULL DEFAULT now(),
    leased_until timestamptz,
    last_error text
  );
  `,
  // Acknowledge on receipt (issue #15): background workers take received messages in arrival
  // order (seq), one at a time per sender and patient (order_key), and check the sender's
  // facility (sender_facility) as its request would have.
  `
  ALTER TABLE ingest_messages ADD COLUMN seq bigserial;
  ALTER TABLE ingest_messages ADD COLUMN order_key text;
  ALTER TABLE ingest_messages ADD COLUMN sender_facility text;
  CREATE INDEX ingest_messages_backlog ON ingest_messages (seq) WHERE status = 'received';
  CREATE INDEX ingest_messages_order ON ingest_messages (order_key, seq) WHERE status = 'received'
  `,
];

export async function migrate(db: Db): Promise<void> {
  // Two gateway processes starting at once on one server must not both apply a step, nor both
  // create the bookkeeping table (the loser's CREATE … IF NOT EXISTS fails on the catalog's
  // unique index): the lock comes first, everything else after it, in one transaction.
  await db.transaction(async (tx) => {
    if (db.kind === 'postgres') await tx.query(`SELECT pg_advisory_xact_lock(7243001)`);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await tx.query<{ version: number }>(`SELECT version FROM schema_migrations`)).map((r) => r.version));
    for (let i = 0; i < STEPS.length; i++) {
      if (done.has(i + 1)) continue;
      for (const stmt of STEPS[i]!.split(';').map((s) => s.trim()).filter(Boolean)) await tx.query(stmt);
      await tx.query(`INSERT INTO schema_migrations (version) VALUES ($1)`, [i + 1]);
    }
  });
}
