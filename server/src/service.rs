//! `pilot service install`: a systemd user unit that runs `pilot serve` from login on, so schedules fire without
//! a terminal open. This module writes and removes the unit file and asks `systemctl --user` to load it; the
//! file stays written when systemctl is missing or has no user session to talk to.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The unit's file name.
pub const UNIT_NAME: &str = "pilot.service";

/// What the unit runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUnit {
    /// The absolute path of the `pilot` binary.
    pub program: PathBuf,
    /// The `$PILOT_HOME` it serves, absolute.
    pub pilot_home: PathBuf,
    /// The PATH the daemon's steps see (`shell/exec` finds programs as the installing shell did).
    pub path: Option<String>,
}

impl ServiceUnit {
    /// The unit file's text.
    pub fn text(&self) -> String {
        let mut environment = vec![format!("PILOT_HOME={}", self.pilot_home.display())];
        if let Some(path) = &self.path {
            environment.push(format!("PATH={path}"));
        }
        let environment: String =
            environment.iter().map(|pair| format!("Environment={}\n", quote_environment(pair))).collect();
        format!(
            "# Written by `pilot service install`; `pilot service uninstall` removes it.\n\
             [Unit]\n\
             Description=Dooz Pilot daemon: schedules, webhooks and file watches of {home}\n\
             \n\
             [Service]\n\
             Type=exec\n\
             ExecStart={program} serve\n\
             {environment}\
             Restart=on-failure\n\
             RestartSec=5\n\
             \n\
             [Install]\n\
             WantedBy=default.target\n",
            home = escape_specifiers(&self.pilot_home.display().to_string()),
            program = quote_exec_word(&self.program.display().to_string()),
        )
    }
}

/// `$XDG_CONFIG_HOME/systemd/user/pilot.service`, else `~/.config/systemd/user/pilot.service`.
pub fn unit_path() -> Result<PathBuf, String> {
    let config = match std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from) {
        Some(dir) if dir.is_absolute() => dir,
        _ => match std::env::var_os("HOME").map(PathBuf::from) {
            Some(home) if home.is_absolute() => home.join(".config"),
            _ => return Err("neither XDG_CONFIG_HOME nor HOME is an absolute path".to_owned()),
        },
    };
    Ok(config.join("systemd").join("user").join(UNIT_NAME))
}

/// Writes the unit file (replacing an older one), creating its folder.
pub fn write_unit(path: &Path, unit: &ServiceUnit) -> Result<(), String> {
    let folder = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(folder).map_err(|err| format!("cannot create {}: {err}", folder.display()))?;
    std::fs::write(path, unit.text()).map_err(|err| format!("cannot write {}: {err}", path.display()))
}

/// Runs `systemctl --user ARGS`; the error says what failed, with systemctl's own words.
pub fn systemctl(args: &[&str]) -> Result<(), String> {
    let shown = format!("systemctl --user {}", args.join(" "));
    let output = match Command::new("systemctl").arg("--user").args(args).output() {
        Ok(output) => output,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("`{shown}` could not run: systemctl is not installed (no systemd here)"));
        }
        Err(err) => return Err(format!("`{shown}` could not run: {err}")),
    };
    if output.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&output.stderr).trim().to_owned();
    let said = if said.is_empty() { format!("it exited with {}", output.status) } else { said };
    Err(format!("`{shown}` failed: {said}"))
}

/// A word of `ExecStart=`, quoted: C-style escapes inside double quotes, `%` and `$` doubled (systemd expands
/// specifiers and variables there).
fn quote_exec_word(word: &str) -> String {
    let escaped = escape_specifiers(word).replace('$', "$$");
    format!("\"{}\"", escape_quoted(&escaped))
}

/// An `Environment=` assignment, quoted whole (`"KEY=VALUE"`), `%` doubled.
fn quote_environment(pair: &str) -> String {
    format!("\"{}\"", escape_quoted(&escape_specifiers(pair)))
}

fn escape_specifiers(text: &str) -> String {
    text.replace('%', "%%")
}

fn escape_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_runs_pilot_serve_for_its_home_and_restarts_it_on_failure() {
        let unit = ServiceUnit {
            program: "/opt/pilot/bin/pilot".into(),
            pilot_home: "/home/ada/.dooz/pilot".into(),
            path: Some("/usr/bin:/bin".into()),
        };
        let text = unit.text();
        for line in [
            "ExecStart=\"/opt/pilot/bin/pilot\" serve",
            "Environment=\"PILOT_HOME=/home/ada/.dooz/pilot\"",
            "Environment=\"PATH=/usr/bin:/bin\"",
            "Restart=on-failure",
            "WantedBy=default.target",
        ] {
            assert!(text.lines().any(|l| l == line), "missing `{line}` in:\n{text}");
        }
    }

    #[test]
    fn odd_characters_in_paths_reach_the_program_as_they_were() {
        assert_eq!(quote_exec_word("/my apps/pilot"), "\"/my apps/pilot\"");
        assert_eq!(quote_exec_word("/a\"b\\c/100%/$HOME"), "\"/a\\\"b\\\\c/100%%/$$HOME\"");
        assert_eq!(quote_environment("PILOT_HOME=/x/50%"), "\"PILOT_HOME=/x/50%%\"");
    }
}
