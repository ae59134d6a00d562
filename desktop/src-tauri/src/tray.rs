//! The tray icon's menu: the unfinished executions (each opens its page), "Open", "Quit". On Linux the menu is what
//! makes the icon appear at all (an AppIndicator shows no icon without one), and clicks on the icon itself never
//! arrive there, so everything the tray does is in the menu.

use crate::running::{Failure, Phase, Running};
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::{AppHandle, Runtime};

/// The tray icon's id.
pub const TRAY: &str = "main";
pub const OPEN: &str = "open";
pub const QUIT: &str = "quit";
/// Menu ids of executions: this prefix, then the execution id.
pub const EXECUTION_PREFIX: &str = "execution:";
/// The most executions the menu names; the rest are counted.
pub const MOST_SHOWN: usize = 10;

/// One line of the menu, `None` for a separator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: String,
    pub text: String,
    pub enabled: bool,
}

/// The menu for these executions, top to bottom.
pub fn entries(running: &Running) -> Vec<Option<Entry>> {
    let label = |id: &str, text: String, enabled| Some(Entry { id: id.to_owned(), text, enabled });
    let mut lines = Vec::new();
    if running.is_empty() {
        lines.push(label("none", "No executions running".to_owned(), false));
    }
    for execution in running.executions().take(MOST_SHOWN) {
        let phase = match execution.phase {
            Phase::Queued => "queued",
            Phase::Running => "running",
        };
        let id = format!("{EXECUTION_PREFIX}{}", execution.id);
        lines.push(label(&id, format!("{} — {phase}", execution.workflow), true));
    }
    if running.len() > MOST_SHOWN {
        lines.push(label("more", format!("and {} more…", running.len() - MOST_SHOWN), false));
    }
    lines.push(None);
    lines.push(label(OPEN, "Open Dooz Pilot".to_owned(), true));
    lines.push(label(QUIT, "Quit".to_owned(), true));
    lines
}

/// The tooltip: how many are running.
pub fn tooltip(running: &Running) -> String {
    match running.len() {
        0 => "Dooz Pilot".to_owned(),
        1 => "Dooz Pilot: 1 execution running".to_owned(),
        n => format!("Dooz Pilot: {n} executions running"),
    }
}

/// A notification's title and body for a failure.
pub fn failure_notice(failure: &Failure) -> (String, String) {
    let title = match &failure.workflow {
        Some(workflow) => format!("{workflow} failed"),
        None => "An execution failed".to_owned(),
    };
    let body = match &failure.error {
        Some(error) => error.clone(),
        None => format!("execution {}", failure.execution_id),
    };
    (title, body)
}

/// Builds the menu of `entries`.
pub fn menu<R: Runtime>(app: &AppHandle<R>, entries: &[Option<Entry>]) -> tauri::Result<Menu<R>> {
    let menu = Menu::new(app)?;
    for entry in entries {
        match entry {
            Some(entry) => {
                menu.append(&MenuItem::with_id(app, &entry.id, &entry.text, entry.enabled, None::<&str>)?)?
            }
            None => menu.append(&PredefinedMenuItem::separator(app)?)?,
        }
    }
    Ok(menu)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(running: &Running) -> Vec<String> {
        entries(running).into_iter().map(|entry| entry.map_or("---".to_owned(), |entry| entry.text)).collect()
    }

    #[test]
    fn an_idle_daemon_shows_that_nothing_runs_then_open_and_quit() {
        assert_eq!(texts(&Running::default()), ["No executions running", "---", "Open Dooz Pilot", "Quit"]);
        assert!(!entries(&Running::default())[0].as_ref().unwrap().enabled);
    }

    #[test]
    fn each_running_execution_is_a_line_that_opens_it() {
        let mut running = Running::default();
        running.insert("e1", "backup", "running");
        running.insert("e2", "report", "pending");
        assert_eq!(texts(&running), ["backup — running", "report — queued", "---", "Open Dooz Pilot", "Quit"]);
        let first = entries(&running)[0].clone().unwrap();
        assert_eq!((first.id.as_str(), first.enabled), ("execution:e1", true));
        assert_eq!(tooltip(&running), "Dooz Pilot: 2 executions running");
    }

    #[test]
    fn past_ten_executions_the_rest_are_counted() {
        let mut running = Running::default();
        for n in 0..13 {
            running.insert(&format!("e{n:02}"), &format!("w{n:02}"), "running");
        }
        let texts = texts(&running);
        assert_eq!(texts.len(), MOST_SHOWN + 4);
        assert_eq!(texts[0], "w00 — running");
        assert_eq!(texts[MOST_SHOWN], "and 3 more…");
    }

    #[test]
    fn a_failure_notice_names_the_workflow_and_the_error() {
        let failure =
            Failure { execution_id: "e1".into(), workflow: Some("deploy".into()), error: Some("exit 1".into()) };
        assert_eq!(failure_notice(&failure), ("deploy failed".to_owned(), "exit 1".to_owned()));
        let unknown = Failure { execution_id: "e2".into(), workflow: None, error: None };
        assert_eq!(failure_notice(&unknown), ("An execution failed".to_owned(), "execution e2".to_owned()));
    }
}
