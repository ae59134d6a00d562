//! Installed custom connectors: the spec's `connectors` table. The folder `$PILOT_HOME/connectors/ID/` holds the
//! program; the row records what was installed (id, version, the manifest as installed) and when. One version
//! per id is installed at a time: recording a connector replaces any row of the same id.

use expr_grammar::Timestamp;

/// One installed connector.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectorRecord {
    /// The manifest's id: the prefix of its action names.
    pub id: String,
    pub name: String,
    pub version: String,
    /// The manifest as installed (JSON).
    pub manifest: serde_json::Value,
    pub is_enabled: bool,
    pub installed_at: Timestamp,
}

/// A connector write, queued like any other write.
#[derive(Debug, Clone)]
pub(crate) enum ConnectorWrite {
    /// Replaces every row of the same id.
    Record(ConnectorRecord),
    Remove(String),
}

impl ConnectorWrite {
    pub(crate) fn describe(&self) -> String {
        match self {
            ConnectorWrite::Record(record) => format!("recording connector `{}` {}", record.id, record.version),
            ConnectorWrite::Remove(id) => format!("removing connector `{id}`"),
        }
    }

    pub(crate) fn at(&self) -> Option<Timestamp> {
        match self {
            ConnectorWrite::Record(record) => Some(record.installed_at),
            ConnectorWrite::Remove(_) => None,
        }
    }
}
