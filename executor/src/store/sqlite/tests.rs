//! SQLite-specific tests; the shared behaviour is the conformance suite.

use super::*;

fn fresh_store() -> (SqliteStore, tempfile::TempDir) {
    let folder = tempfile::tempdir().expect("temporary folder");
    let store = SqliteStore::open(folder.path().join("pilot.db"), StoreOptions::default()).expect("open store");
    (store, folder)
}

crate::store_conformance_tests!(fresh_store);
