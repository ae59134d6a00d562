//! `pilot connectors list [--json]`: every action a workflow can call, with its signature, and the installed
//! custom connectors with their versions.
//! `pilot connectors install PATH` / `remove ID`: custom connectors under `$PILOT_HOME/connectors/ID/`, each
//! recorded in the store's `connectors` table (id, version, manifest, install time).
//!
//! The folder and the row change together: install copies the folder in beside the old one, swaps it in, then
//! records the row; if recording fails it puts the old folder back (or none). Remove moves the folder aside, deletes
//! the row, then the folder; if deleting the row fails the folder goes back. Hidden folders (`.ID.*`) hold these
//! copies and are never loaded as connectors.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use connectors::catalogue::Catalogue;
use connectors::custom::{Manifest, installed};
use connectors::reference::render_list;
use executor::engine::{Clock, SystemClock};
use executor::store::{
    ConnectorRecord, LogFolder, SqliteStore, Store, StoreError, StoreOptions, rfc3339_micros, utc_seconds,
};

use super::exit;
use super::output::{out, outln};
use super::ui;
use server::home::PilotHome;

#[derive(Debug, clap::Args)]
pub struct ConnectorsArgs {
    #[command(subcommand)]
    pub command: ConnectorsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConnectorsCommand {
    /// List every action with its inputs, output type and effect, then the installed custom connectors.
    /// With `--json`: `actions` (names, descriptions, typed inputs, output, effect) and `connectors` (the
    /// installed custom connectors with their versions).
    List,
    /// Install a custom connector from a folder holding `manifest.json` and its program (replaces an
    /// installed connector with the same id).
    Install(InstallArgs),
    /// Remove an installed custom connector.
    Remove(RemoveArgs),
}

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// The connector's folder.
    pub path: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// The connector's id (as in its manifest).
    pub id: String,
}

pub fn run(args: &ConnectorsArgs) -> ExitCode {
    let home = PilotHome::from_env();
    match &args.command {
        ConnectorsCommand::List => run_list(&home),
        ConnectorsCommand::Install(install) => run_install(&home, &install.path),
        ConnectorsCommand::Remove(remove) => run_remove(&home, &remove.id),
    }
}

fn run_list(home: &PilotHome) -> ExitCode {
    let toolbox = super::toolbox(home);
    let recorded = match recorded_connectors(home) {
        Ok(recorded) => recorded,
        Err(message) => return ui::fail(exit::FAILED, &message),
    };
    warn_about_mismatches(home, &recorded);
    if ui::json() {
        return print_json(&toolbox.catalogue, &recorded);
    }
    let unavailable: Vec<&str> =
        toolbox.catalogue.names().filter(|name| *name != "filter" && toolbox.registry.get(name).is_err()).collect();
    out!("{}{}", render_list(&toolbox.catalogue, &unavailable), installed_text(&recorded));
    ExitCode::SUCCESS
}

fn print_json(catalogue: &Catalogue, recorded: &[ConnectorRecord]) -> ExitCode {
    let mut json = match serde_json::to_value(catalogue) {
        Ok(json) => json,
        Err(error) => return ui::fail(exit::FAILED, &format!("cannot write the catalogue as JSON: {error}")),
    };
    json["connectors"] = recorded.iter().map(connector_json).collect();
    outln!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    ExitCode::SUCCESS
}

fn connector_json(record: &ConnectorRecord) -> serde_json::Value {
    serde_json::json!({
        "id": record.id,
        "name": record.name,
        "version": record.version,
        "enabled": record.is_enabled,
        "installed_at": rfc3339_micros(record.installed_at),
    })
}

/// The installed custom connectors after the action list; nothing when there are none.
fn installed_text(recorded: &[ConnectorRecord]) -> String {
    if recorded.is_empty() {
        return String::new();
    }
    let mut text = String::from("\nInstalled custom connectors:\n");
    for record in recorded {
        let installed = utc_seconds(record.installed_at);
        text.push_str(&format!("  {} {}  {}  (installed {installed} UTC)\n", record.id, record.version, record.name));
    }
    text
}

/// The connectors recorded in the store; none when there is no database yet (listing creates nothing).
fn recorded_connectors(home: &PilotHome) -> Result<Vec<ConnectorRecord>, String> {
    if !home.database().exists() {
        return Ok(Vec::new());
    }
    let store = open_store(home)?;
    wait(store.connectors())
}

/// A folder without a row (installed by an older Pilot) or a row without a folder (removed by hand): say how to
/// make them agree again.
fn warn_about_mismatches(home: &PilotHome, recorded: &[ConnectorRecord]) {
    let folders: Vec<(PathBuf, Manifest)> = installed(&home.connectors()).into_iter().flatten().collect();
    for (dir, manifest) in &folders {
        if !recorded.iter().any(|record| record.id == manifest.id) {
            ui::warn(&format!(
                "custom connector `{}` in {} is not recorded in {}: `pilot connectors install {}` records it",
                manifest.id,
                dir.display(),
                home.database().display(),
                dir.display()
            ));
        }
    }
    for record in recorded {
        if !folders.iter().any(|(_, manifest)| manifest.id == record.id) {
            ui::warn(&format!(
                "custom connector `{}` is recorded in {} but {} holds no valid connector: `pilot connectors remove {}` \
                 forgets it",
                record.id,
                home.database().display(),
                home.connectors().join(&record.id).display(),
                record.id
            ));
        }
    }
}

fn run_install(home: &PilotHome, source: &Path) -> ExitCode {
    let manifest = match Manifest::load(source) {
        Ok(manifest) => manifest,
        Err(err) => return ui::fail(exit::NOT_RUN, &err.to_string()),
    };
    if let Err(reason) = check_no_clash(home, &manifest) {
        return ui::fail(exit::NOT_RUN, &reason);
    }
    let record = match connector_record(&manifest) {
        Ok(record) => record,
        Err(reason) => return ui::fail(exit::NOT_RUN, &reason),
    };
    if let Err(err) = home.ensure_layout() {
        return ui::fail(exit::FAILED, &err.to_string());
    }
    // Opened before any folder changes: a database that cannot be opened leaves everything as it was.
    let store = match open_store(home) {
        Ok(store) => store,
        Err(reason) => return ui::fail(exit::FAILED, &reason),
    };
    let target = home.connectors().join(&manifest.id);
    let previous = match replace_folder(source, &target) {
        Ok(previous) => previous,
        Err(err) => return ui::fail(exit::FAILED, &format!("cannot install into {}: {err}", target.display())),
    };
    if let Err(reason) = wait(store.record_connector(record)) {
        let undone = restore_folder(&target, previous.as_deref());
        return ui::fail(exit::FAILED, &format!("connector `{}` was not installed: {reason}{undone}", manifest.id));
    }
    if let Some(previous) = previous {
        // The new version is in place and recorded; a leftover hidden copy is never loaded.
        let _ = std::fs::remove_dir_all(previous);
    }
    let names: Vec<String> = manifest.actions.iter().map(|action| format!("{}/{}", manifest.id, action.name)).collect();
    if ui::json() {
        let document = serde_json::json!({
            "id": manifest.id, "version": manifest.version, "path": target.display().to_string(), "actions": names,
        });
        outln!("{}", serde_json::to_string_pretty(&document).unwrap_or_default());
    } else {
        outln!("installed {} {} into {}: {}", manifest.id, manifest.version, target.display(), names.join(", "));
    }
    ExitCode::SUCCESS
}

fn connector_record(manifest: &Manifest) -> Result<ConnectorRecord, String> {
    let json = serde_json::to_value(manifest)
        .map_err(|err| format!("connector `{}`: cannot write its manifest as JSON: {err}", manifest.id))?;
    Ok(ConnectorRecord {
        id: manifest.id.clone(),
        name: manifest.name.clone(),
        version: manifest.version.clone(),
        manifest: json,
        is_enabled: true,
        installed_at: SystemClock.now(),
    })
}

/// The connector's actions must fit beside the built-ins and every other installed connector.
fn check_no_clash(home: &PilotHome, manifest: &Manifest) -> Result<(), String> {
    let mut catalogue = Catalogue::builtin();
    let others = installed(&home.connectors()).into_iter().flatten().filter(|(_, other)| other.id != manifest.id);
    for (_, other) in others {
        for def in other.action_definitions().unwrap_or_default() {
            let _ = catalogue.add(def);
        }
    }
    for def in manifest.action_definitions()? {
        catalogue.add(def).map_err(|err| format!("connector `{}` cannot be installed: {err}", manifest.id))?;
    }
    Ok(())
}

/// Copies `source` beside `target` first, then swaps it in, so a failed copy never leaves half a connector. The
/// folder it replaced, if any, is kept aside (hidden) until the install is recorded: returns where.
fn replace_folder(source: &Path, target: &Path) -> std::io::Result<Option<PathBuf>> {
    let staging = hidden_beside(target, "installing");
    let previous = hidden_beside(target, "previous");
    for leftover in [&staging, &previous] {
        if leftover.exists() {
            std::fs::remove_dir_all(leftover)?;
        }
    }
    if let Err(err) = copy_folder(source, &staging) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(err);
    }
    let kept = if target.exists() {
        std::fs::rename(target, &previous)?;
        Some(previous)
    } else {
        None
    };
    if let Err(err) = std::fs::rename(&staging, target) {
        let _ = restore_folder(target, kept.as_deref());
        let _ = std::fs::remove_dir_all(&staging);
        return Err(err);
    }
    Ok(kept)
}

/// Undoes [`replace_folder`]: removes the new folder and puts the previous one back. Returns a note for the error
/// message when that failed too.
fn restore_folder(target: &Path, previous: Option<&Path>) -> String {
    let result = remove_if_present(target).and_then(|()| match previous {
        Some(previous) => std::fs::rename(previous, target),
        None => Ok(()),
    });
    match result {
        Ok(()) => String::new(),
        Err(err) => format!(" (and {} could not be restored: {err})", target.display()),
    }
}

fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

/// `DIR/.ID.WHAT` for `target` = `DIR/ID`.
fn hidden_beside(target: &Path, what: &str) -> PathBuf {
    target.with_file_name(format!(".{}.{what}", file_name(target)))
}

fn copy_folder(source: &Path, target: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(target)?;
    for entry in std::fs::read_dir(source)? {
        let entry = entry?;
        let destination = target.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_folder(&entry.path(), &destination)?;
        } else {
            // fs::copy keeps the permission bits, so the program stays executable.
            std::fs::copy(entry.path(), destination)?;
        }
    }
    Ok(())
}

fn run_remove(home: &PilotHome, id: &str) -> ExitCode {
    let target = home.connectors().join(id);
    let is_plain_id = !id.is_empty() && !id.contains(['/', '.', '\\']);
    let has_folder = is_plain_id && target.join("manifest.json").is_file();
    let store = if home.database().exists() {
        match open_store(home) {
            Ok(store) => Some(store),
            Err(reason) => return ui::fail(exit::FAILED, &reason),
        }
    } else {
        None
    };
    let recorded = match &store {
        Some(store) => match wait(store.connectors()) {
            Ok(found) => found,
            Err(reason) => return ui::fail(exit::FAILED, &reason),
        },
        None => Vec::new(),
    };
    let is_recorded = recorded.iter().any(|record| record.id == id);
    if !has_folder && !is_recorded {
        let mut ids: Vec<String> = installed(&home.connectors()).into_iter().flatten().map(|(_, m)| m.id).collect();
        ids.extend(recorded.into_iter().map(|record| record.id));
        ids.sort();
        ids.dedup();
        let known =
            if ids.is_empty() { "none are installed".to_string() } else { format!("installed: {}", ids.join(", ")) };
        return ui::fail(exit::NOT_RUN, &format!("no custom connector `{id}` ({known})"));
    }
    match (store, is_recorded) {
        (Some(store), true) => remove_recorded(&store, id, has_folder.then_some(target.as_path())),
        _ => remove_folder(&target),
    }
}

/// Moves the folder aside, forgets the row, then deletes the folder; puts the folder back if the row stays.
fn remove_recorded(store: &SqliteStore, id: &str, folder: Option<&Path>) -> ExitCode {
    let aside = match folder {
        Some(folder) => {
            let aside = hidden_beside(folder, "removing");
            if let Err(err) = remove_if_present(&aside).and_then(|()| std::fs::rename(folder, &aside)) {
                return ui::fail(exit::FAILED, &format!("cannot remove {}: {err}", folder.display()));
            }
            Some((folder, aside))
        }
        None => None,
    };
    if let Err(reason) = wait(store.remove_connector(id)) {
        let undone = match &aside {
            Some((folder, aside)) => std::fs::rename(aside, folder)
                .err()
                .map(|err| format!(" (and {} could not be put back from {}: {err})", folder.display(), aside.display()))
                .unwrap_or_default(),
            None => String::new(),
        };
        return ui::fail(exit::FAILED, &format!("connector `{id}` was not removed: {reason}{undone}"));
    }
    if let Some((_, aside)) = aside {
        // Forgotten already; a leftover hidden folder is never loaded.
        if let Err(err) = std::fs::remove_dir_all(&aside) {
            ui::warn(&format!("removed {id}, but could not delete {}: {err}", aside.display()));
        }
    }
    removed(id)
}

/// A folder nobody recorded (installed by an older Pilot): only the folder to delete.
fn remove_folder(target: &Path) -> ExitCode {
    match std::fs::remove_dir_all(target) {
        Ok(()) => removed(&file_name(target)),
        Err(err) => ui::fail(exit::FAILED, &format!("cannot remove {}: {err}", target.display())),
    }
}

fn removed(id: &str) -> ExitCode {
    if ui::json() {
        outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "id": id, "removed": true })).unwrap_or_default()
        );
    } else {
        outln!("removed {id}");
    }
    ExitCode::SUCCESS
}

/// `$PILOT_HOME/pilot.db` for the connector rows (no execution logs are written here).
fn open_store(home: &PilotHome) -> Result<SqliteStore, String> {
    super::store_location(home)?.sqlite_only("pilot connectors")?;
    let options = StoreOptions { logs: LogFolder::Disabled, ..StoreOptions::default() };
    SqliteStore::open(home.database(), options).map_err(|err| err.to_string())
}

/// Waits for a store answer: reads need a tokio runtime (they run on its blocking pool).
fn wait<T>(answer: impl std::future::Future<Output = Result<T, StoreError>>) -> Result<T, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))?;
    runtime.block_on(answer).map_err(|err| err.to_string())
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}
