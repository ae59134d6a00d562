//! The PostgreSQL schema as an ordered list of migrations. `pilot_schema.version` holds how many have run; each
//! runs in its own transaction together with the version bump, under an advisory lock so that nodes starting at
//! the same time migrate once.
//!
//! The tables and rules are the SQLite store's (`sqlite/schema.rs`, all its migrations at once): timestamps are
//! `BIGINT` microseconds since the Unix epoch, JSON columns are `TEXT` (kept byte for byte, key order included,
//! which `jsonb` would not). Beyond SQLite: `executions.trigger_type` (the `type` of `trigger_info`, for the
//! listing filter), `execution_steps.seq` (the order steps were first recorded: SQLite's rowid), and
//! `execution_logs`, the execution logs in the store so that every node reads them.

/// Migration `n` (1-based) brings a database from version `n - 1` to `n`. Append only: never edit a shipped one.
pub(crate) const MIGRATIONS: &[&str] = &[SCHEMA];

/// The advisory lock key taken while migrating ("pilot" in ASCII).
pub(crate) const MIGRATION_LOCK: i64 = 0x70_69_6c_6f_74;

/// Version 1: everything SQLite has at its version 4, plus the execution logs.
const SCHEMA: &str = "
CREATE TABLE workflows (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    definition TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    is_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX workflows_by_name ON workflows (name, updated_at);

CREATE TABLE workflow_versions (
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, version)
);

CREATE TABLE triggers (
    id TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    trigger_type TEXT NOT NULL,
    config TEXT,
    is_enabled BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX triggers_by_workflow ON triggers (workflow_id);

CREATE TABLE executions (
    id TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows (id),
    trigger_id TEXT,
    status TEXT NOT NULL,
    started_at BIGINT,
    completed_at BIGINT,
    error TEXT,
    context TEXT,
    workflow_name TEXT NOT NULL,
    workflow_version BIGINT NOT NULL,
    input TEXT,
    trigger_info TEXT,
    trigger_type TEXT,
    resume_attempts INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    slot BIGINT,
    retry_of TEXT,
    retry_from TEXT
);
CREATE INDEX executions_by_workflow ON executions (workflow_name, started_at);
CREATE INDEX executions_by_status ON executions (status, started_at);
CREATE INDEX executions_by_start ON executions (started_at, id);
CREATE UNIQUE INDEX executions_by_trigger_slot ON executions (trigger_id, slot) WHERE slot IS NOT NULL;
CREATE INDEX executions_by_owner ON executions (owner, status) WHERE owner IS NOT NULL;
CREATE INDEX executions_unfinished ON executions (started_at, id) WHERE status IN ('pending', 'running');

CREATE TABLE execution_steps (
    id TEXT PRIMARY KEY,
    seq BIGSERIAL NOT NULL,
    execution_id TEXT NOT NULL REFERENCES executions (id),
    step_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    started_at BIGINT,
    completed_at BIGINT,
    input TEXT,
    output TEXT,
    error TEXT
);
CREATE UNIQUE INDEX execution_steps_by_execution ON execution_steps (execution_id, step_id);

CREATE TABLE execution_logs (
    seq BIGSERIAL PRIMARY KEY,
    execution_id TEXT NOT NULL,
    line TEXT NOT NULL
);
CREATE INDEX execution_logs_by_execution ON execution_logs (execution_id, seq);

CREATE TABLE credentials (
    id TEXT PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    provider TEXT NOT NULL,
    data TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE connectors (
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    manifest TEXT NOT NULL,
    is_enabled BOOLEAN NOT NULL DEFAULT TRUE,
    installed_at BIGINT NOT NULL,
    PRIMARY KEY (id, version)
);

CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    pid BIGINT NOT NULL,
    host TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    lease_expires_at BIGINT NOT NULL
);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, key)
);
";
