//! `pilot connectors list [--json]`: every action a workflow can call, with its signature.
//! `pilot connectors install PATH` / `remove ID`: custom connectors under `$PILOT_HOME/connectors/ID/`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use connectors::catalogue::Catalogue;
use connectors::custom::{Manifest, installed};
use connectors::reference::render_list;

use crate::home::PilotHome;
use crate::toolbox::Toolbox;

#[derive(Debug, clap::Args)]
pub struct ConnectorsArgs {
    #[command(subcommand)]
    pub command: ConnectorsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConnectorsCommand {
    /// List every action with its inputs, output type and effect.
    List(ListArgs),
    /// Install a custom connector from a folder holding `manifest.json` and its program (replaces an
    /// installed connector with the same id).
    Install(InstallArgs),
    /// Remove an installed custom connector.
    Remove(RemoveArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print the catalogue as JSON (names, descriptions, typed inputs, output, effect).
    #[arg(long)]
    pub json: bool,
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
        ConnectorsCommand::List(list) => run_list(&home, list),
        ConnectorsCommand::Install(install) => run_install(&home, &install.path),
        ConnectorsCommand::Remove(remove) => run_remove(&home, &remove.id),
    }
}

fn run_list(home: &PilotHome, args: &ListArgs) -> ExitCode {
    let toolbox = Toolbox::load(home);
    toolbox.warn_about_problems();
    if args.json {
        return match serde_json::to_string_pretty(&toolbox.catalogue) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: cannot write the catalogue as JSON: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let unavailable: Vec<&str> =
        toolbox.catalogue.names().filter(|name| *name != "filter" && toolbox.registry.get(name).is_err()).collect();
    print!("{}", render_list(&toolbox.catalogue, &unavailable));
    ExitCode::SUCCESS
}

fn run_install(home: &PilotHome, source: &Path) -> ExitCode {
    let manifest = match Manifest::load(source) {
        Ok(manifest) => manifest,
        Err(err) => return fail(1, &err.to_string()),
    };
    if let Err(reason) = check_no_clash(home, &manifest) {
        return fail(1, &reason);
    }
    if let Err(err) = home.ensure_layout() {
        return fail(2, &err.to_string());
    }
    let target = home.connectors().join(&manifest.id);
    if let Err(err) = replace_folder(source, &target) {
        return fail(2, &format!("cannot install into {}: {err}", target.display()));
    }
    let names: Vec<String> = manifest.actions.iter().map(|action| format!("{}/{}", manifest.id, action.name)).collect();
    println!("installed {} {} into {}: {}", manifest.id, manifest.version, target.display(), names.join(", "));
    ExitCode::SUCCESS
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

/// Copies `source` beside `target` first, then swaps it in, so a failed copy never leaves half a connector.
fn replace_folder(source: &Path, target: &Path) -> std::io::Result<()> {
    let staging = target.with_file_name(format!(".{}.installing", file_name(target)));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    copy_folder(source, &staging)?;
    if target.exists() {
        std::fs::remove_dir_all(target)?;
    }
    std::fs::rename(&staging, target)
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
    let is_installed = !id.is_empty() && !id.contains(['/', '.']) && target.join("manifest.json").is_file();
    if !is_installed {
        let ids: Vec<String> = installed(&home.connectors()).into_iter().flatten().map(|(_, m)| m.id).collect();
        let known =
            if ids.is_empty() { "none are installed".to_string() } else { format!("installed: {}", ids.join(", ")) };
        return fail(2, &format!("no custom connector `{id}` ({known})"));
    }
    match std::fs::remove_dir_all(&target) {
        Ok(()) => {
            println!("removed {id}");
            ExitCode::SUCCESS
        }
        Err(err) => fail(2, &format!("cannot remove {}: {err}", target.display())),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default()
}

fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}
