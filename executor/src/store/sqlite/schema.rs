//! The database schema as an ordered list of migrations. `PRAGMA user_version` holds how many have run; each
//! runs in its own transaction together with the version bump, so a database is never half migrated.

/// Migration `n` (1-based) brings a database from version `n - 1` to `n`. Append only: never edit a shipped one.
pub(crate) const MIGRATIONS: &[&str] = &[SEED_SCHEMA, EXECUTION_DETAILS, RESUME_ATTEMPTS, DAEMON];

/// Version 1: the product spec's schema, exactly.
const SEED_SCHEMA: &str = "
CREATE TABLE workflows (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    definition TEXT NOT NULL,  -- YAML/JSON
    version INTEGER DEFAULT 1,
    is_enabled BOOLEAN DEFAULT TRUE,
    created_at INTEGER,
    updated_at INTEGER
);

CREATE TABLE triggers (
    id TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    trigger_type TEXT NOT NULL,  -- 'schedule', 'webhook', 'file_watch', 'manual'
    config TEXT,  -- JSON
    is_enabled BOOLEAN DEFAULT TRUE,
    FOREIGN KEY (workflow_id) REFERENCES workflows(id)
);

CREATE TABLE executions (
    id TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    trigger_id TEXT,
    status TEXT NOT NULL,  -- 'pending', 'running', 'success', 'failed', 'cancelled'
    started_at INTEGER,
    completed_at INTEGER,
    error TEXT,
    context TEXT,  -- JSON (variables, outputs)
    FOREIGN KEY (workflow_id) REFERENCES workflows(id)
);

CREATE TABLE execution_steps (
    id TEXT PRIMARY KEY,
    execution_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at INTEGER,
    completed_at INTEGER,
    input TEXT,    -- JSON
    output TEXT,   -- JSON
    error TEXT,
    FOREIGN KEY (execution_id) REFERENCES executions(id)
);

CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    provider TEXT NOT NULL,  -- 'oauth2', 'api_key', 'basic'
    data TEXT NOT NULL,      -- Encrypted JSON
    created_at INTEGER,
    updated_at INTEGER
);

CREATE TABLE connectors (
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    manifest TEXT NOT NULL,  -- JSON
    is_enabled BOOLEAN DEFAULT TRUE,
    installed_at INTEGER,
    PRIMARY KEY (id, version)
);
";

/// Version 2: what the engine needs beyond the spec: attempts, denormalized workflow name and version, the run's
/// input and trigger, every definition version, and indexes for listing.
const EXECUTION_DETAILS: &str = "
ALTER TABLE execution_steps ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX execution_steps_by_execution ON execution_steps (execution_id, step_id);

ALTER TABLE executions ADD COLUMN workflow_name TEXT NOT NULL DEFAULT '';
ALTER TABLE executions ADD COLUMN workflow_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE executions ADD COLUMN input TEXT;         -- JSON
ALTER TABLE executions ADD COLUMN trigger_info TEXT;  -- JSON: {\"type\": \"manual\" | \"schedule\" | ...}
UPDATE executions SET workflow_name = COALESCE((SELECT name FROM workflows WHERE workflows.id = executions.workflow_id), '');
CREATE INDEX executions_by_workflow ON executions (workflow_name, started_at);
CREATE INDEX executions_by_status ON executions (status, started_at);
CREATE INDEX executions_by_start ON executions (started_at);
CREATE INDEX triggers_by_workflow ON triggers (workflow_id);

CREATE TABLE workflow_versions (
    workflow_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,  -- YAML/JSON as saved
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, version),
    FOREIGN KEY (workflow_id) REFERENCES workflows(id)
);
INSERT INTO workflow_versions (workflow_id, version, definition, created_at)
    SELECT id, COALESCE(version, 1), definition, COALESCE(updated_at, created_at, 0) FROM workflows;
";

/// Version 3: how many times an interrupted execution was resumed, so that one whose resumes keep stopping the
/// process is given up after a few tries instead of blocking every later resume.
const RESUME_ATTEMPTS: &str = "
ALTER TABLE executions ADD COLUMN resume_attempts INTEGER NOT NULL DEFAULT 0;
";

/// Version 4: what the daemon needs (see `store::daemon`): instances with leases, the owner and schedule slot of
/// an execution ((trigger, slot) unique: a slot never runs twice), webhook idempotency keys; and a retry's lineage
/// in its own columns (its trigger data stays the original's).
const DAEMON: &str = "
CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    lease_expires_at INTEGER NOT NULL
);
ALTER TABLE executions ADD COLUMN owner TEXT;
ALTER TABLE executions ADD COLUMN slot INTEGER;
ALTER TABLE executions ADD COLUMN retry_of TEXT;    -- the execution a retry re-runs
ALTER TABLE executions ADD COLUMN retry_from TEXT;  -- and the step it re-runs from
CREATE UNIQUE INDEX executions_by_trigger_slot ON executions (trigger_id, slot) WHERE slot IS NOT NULL;
CREATE INDEX executions_by_owner ON executions (owner, status) WHERE owner IS NOT NULL;
CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
";
