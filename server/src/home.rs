//! Where Pilot keeps its state: `$PILOT_HOME`, default `~/.dooz/pilot`, laid out as the spec's "File Structure".

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct PilotHome {
    root: PathBuf,
}

impl PilotHome {
    /// `$PILOT_HOME` when set and not empty, else `~/.dooz/pilot`.
    pub fn from_env() -> PilotHome {
        let root = match std::env::var_os("PILOT_HOME") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => home_dir().join(".dooz").join("pilot"),
        };
        PilotHome { root }
    }

    pub fn at(root: impl Into<PathBuf>) -> PilotHome {
        PilotHome { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn database(&self) -> PathBuf {
        self.root.join("pilot.db")
    }

    pub fn workflows(&self) -> PathBuf {
        self.root.join("workflows")
    }

    pub fn connectors(&self) -> PathBuf {
        self.root.join("connectors")
    }

    pub fn credentials(&self) -> PathBuf {
        self.root.join("credentials")
    }

    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }

    pub fn settings(&self) -> PathBuf {
        self.root.join("settings.json")
    }

    /// Creates the folders of the layout that do not exist yet. Errors name the folder.
    pub fn ensure_layout(&self) -> std::io::Result<()> {
        for dir in [self.root.clone(), self.workflows(), self.connectors(), self.credentials(), self.logs()] {
            std::fs::create_dir_all(&dir)
                .map_err(|err| std::io::Error::new(err.kind(), format!("cannot create {}: {err}", dir.display())))?;
        }
        Ok(())
    }
}

fn home_dir() -> PathBuf {
    std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."))
}
