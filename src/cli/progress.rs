//! The live view of `pilot run`, `resume` and `retry`, on stderr (results go to stdout).
//!
//! On a terminal, each running step is a spinner line drawn by indicatif, which measures the terminal's width and
//! cuts lines to it, so a narrow terminal or a long message never leaves stale lines behind. A finished step, a
//! retry and every `log` line are printed above the spinners as ordinary lines, as cargo prints "Compiling".
//! Elsewhere (a pipe, a file, CI) the same ordinary lines are printed without spinners. `--json` and `--quiet`
//! show nothing.

use super::ui;
use executor::engine::{Progress, ProgressEvent};
use executor::store::Status;
use expr_grammar::Timestamp;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    /// Spinners for running steps, redrawn in place.
    Live,
    /// One line per finished step or log line.
    Plain,
    /// Nothing (`--json`, `--quiet`).
    Quiet,
}

impl View {
    /// `Quiet` with `--json` or `--quiet`, else `Live` when stderr is a terminal, `Plain` otherwise.
    pub(crate) fn choose() -> View {
        if ui::json() || ui::quiet() {
            View::Quiet
        } else if std::io::stderr().is_terminal() {
            View::Live
        } else {
            View::Plain
        }
    }
}

/// Most spinner lines shown at once; further running steps are counted in one more line.
const MOST_SPINNERS: usize = 8;

/// What the view knows of one step of one execution.
#[derive(Debug, Clone, Default)]
struct StepState {
    attempt: u32,
    /// `done/total` items of a loop step.
    items: Option<(usize, usize)>,
}

/// Renders events until every sender is gone.
pub(crate) async fn render(mut events: UnboundedReceiver<ProgressEvent>, view: View, show_execution: bool) {
    let mut screen = Screen::new(view, show_execution);
    while let Some(event) = events.recv().await {
        screen.apply(event);
    }
    screen.finish();
}

struct Screen {
    view: View,
    show_execution: bool,
    multi: MultiProgress,
    steps: HashMap<(String, String), StepState>,
    /// Spinners of running steps, in the order they started.
    spinners: Vec<((String, String), ProgressBar)>,
    overflow: Option<ProgressBar>,
    waiting: Vec<(String, String)>,
}

impl Screen {
    fn new(view: View, show_execution: bool) -> Screen {
        let target =
            if view == View::Live { ProgressDrawTarget::stderr_with_hz(10) } else { ProgressDrawTarget::hidden() };
        Screen {
            view,
            show_execution,
            multi: MultiProgress::with_draw_target(target),
            steps: HashMap::new(),
            spinners: Vec::new(),
            overflow: None,
            waiting: Vec::new(),
        }
    }

    fn apply(&mut self, event: ProgressEvent) {
        if self.view == View::Quiet {
            return;
        }
        let execution = event.execution_id;
        match event.event {
            Progress::Started { workflow, resumed, .. } => {
                let verb = if resumed { "resuming" } else { "running" };
                self.line(format!("{verb} {workflow} (execution {execution})"));
            }
            Progress::Reused { step_id, status } => {
                let label = self.label(&execution, &step_id);
                self.line(format!("  {} {label} {status} (done earlier)", symbol(status)));
            }
            Progress::StepStarted { step_id, .. } => {
                let key = (execution, step_id);
                self.steps.entry(key.clone()).or_default().attempt = 1;
                self.start_spinner(key);
            }
            Progress::LoopItems { step_id, done, total } => {
                let key = (execution, step_id);
                self.steps.entry(key.clone()).or_default().items = Some((done, total));
                self.refresh_spinner(&key);
            }
            Progress::Log { step_id, level, message } => {
                let place = step_id.map(|id| format!("[{}] ", self.label(&execution, &id))).unwrap_or_default();
                self.line(format!("    {} {place}{}", level.as_str(), one_line(&message)));
            }
            Progress::StepRetrying { step_id, failed_attempt, delay, error } => {
                let label = self.label(&execution, &step_id);
                self.line(format!(
                    "  ! {label} attempt {failed_attempt} failed: {}; retrying in {}",
                    one_line(&error),
                    short(delay)
                ));
                let key = (execution, step_id);
                self.steps.entry(key.clone()).or_default().attempt = failed_attempt + 1;
                self.refresh_spinner(&key);
            }
            Progress::StepFinished { step_id, status, attempts, started_at, completed_at, error } => {
                let key = (execution, step_id);
                self.stop_spinner(&key);
                let label = self.label(&key.0, &key.1);
                let mut text = format!(
                    "  {} {label} {status} {}",
                    symbol(status),
                    short(micros_between(started_at, completed_at))
                );
                if attempts > 1 {
                    text.push_str(&format!(" (attempt {attempts})"));
                }
                if let Some(error) = error {
                    text.push_str(&format!(": {}", one_line(&error)));
                }
                self.line(text);
            }
            Progress::Finished { .. } => {}
        }
    }

    /// A permanent line: above the spinners on a terminal, a plain line elsewhere.
    fn line(&self, text: String) {
        match self.view {
            View::Live => {
                if self.multi.println(&text).is_err() {
                    eprintln!("{text}");
                }
            }
            View::Plain => eprintln!("{text}"),
            View::Quiet => {}
        }
    }

    /// The step id, after the execution's short id (its last 8 characters, random and accepted by every command
    /// that takes an id) when several executions share the view.
    fn label(&self, execution: &str, step_id: &str) -> String {
        if self.show_execution { format!("{} {step_id}", short_id(execution)) } else { step_id.to_owned() }
    }

    fn start_spinner(&mut self, key: (String, String)) {
        if self.view != View::Live {
            return;
        }
        if self.spinners.len() >= MOST_SPINNERS {
            self.waiting.push(key);
            self.refresh_overflow();
            return;
        }
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(spinner_style());
        bar.enable_steady_tick(Duration::from_millis(100));
        self.spinners.push((key.clone(), bar));
        self.refresh_spinner(&key);
    }

    fn refresh_spinner(&self, key: &(String, String)) {
        let Some((_, bar)) = self.spinners.iter().find(|(k, _)| k == key) else { return };
        let state = self.steps.get(key).cloned().unwrap_or_default();
        let mut message = self.label(&key.0, &key.1);
        if let Some((done, total)) = state.items {
            message.push_str(&format!(" item {}/{total}", (done + 1).min(total)));
        }
        if state.attempt > 1 {
            message.push_str(&format!(" (attempt {})", state.attempt));
        }
        bar.set_message(message);
    }

    fn stop_spinner(&mut self, key: &(String, String)) {
        self.steps.remove(key);
        if let Some(index) = self.spinners.iter().position(|(k, _)| k == key) {
            let (_, bar) = self.spinners.remove(index);
            bar.finish_and_clear();
            self.multi.remove(&bar);
            if !self.waiting.is_empty() {
                let next = self.waiting.remove(0);
                self.start_spinner(next);
            }
        } else {
            self.waiting.retain(|k| k != key);
        }
        self.refresh_overflow();
    }

    fn refresh_overflow(&mut self) {
        match (self.waiting.len(), &self.overflow) {
            (0, Some(bar)) => {
                bar.finish_and_clear();
                self.multi.remove(bar);
                self.overflow = None;
            }
            (0, None) => {}
            (count, Some(bar)) => bar.set_message(format!("and {count} more running")),
            (count, None) => {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(spinner_style());
                bar.set_message(format!("and {count} more running"));
                self.overflow = Some(bar);
            }
        }
    }

    fn finish(self) {
        for (_, bar) in &self.spinners {
            bar.finish_and_clear();
        }
        if let Some(bar) = &self.overflow {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

fn spinner_style() -> ProgressStyle {
    // `wide_msg` is cut to the terminal's width: a spinner line never wraps.
    ProgressStyle::with_template("  {spinner} {wide_msg} {elapsed:>4}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .tick_strings(&["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏", "✓"])
}

pub(crate) fn short_id(execution_id: &str) -> &str {
    &execution_id[execution_id.len().saturating_sub(8)..]
}

/// A log message or error on one line: line breaks shown as `\n`.
fn one_line(text: &str) -> String {
    text.replace('\r', "\\r").replace('\n', "\\n")
}

fn micros_between(start: Timestamp, end: Timestamp) -> Duration {
    Duration::from_micros(u64::try_from(end.0 - start.0).unwrap_or(0))
}

/// `1.2s`, `340ms`, `2m05s`.
pub(crate) fn short(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1000 {
        format!("{millis}ms")
    } else if millis < 60_000 {
        format!("{:.1}s", duration.as_secs_f64())
    } else {
        format!("{}m{:02}s", millis / 60_000, (millis / 1000) % 60)
    }
}

fn symbol(status: Status) -> &'static str {
    match status {
        Status::Success => "✓",
        Status::Failed => "✗",
        Status::Skipped => "-",
        Status::Cancelled => "⊘",
        Status::Pending => "·",
        Status::Running => "…",
        Status::Unknown => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_at_a_glance() {
        assert_eq!(short(Duration::from_millis(340)), "340ms");
        assert_eq!(short(Duration::from_millis(1250)), "1.2s");
        assert_eq!(short(Duration::from_secs(125)), "2m05s");
    }

    #[test]
    fn messages_with_line_breaks_stay_on_one_line() {
        assert_eq!(one_line("a\nb\r\nc"), "a\\nb\\r\\nc");
    }
}
