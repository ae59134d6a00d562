//! The live view of `pilot run`, `resume` and `retry`: a line per step with its status and duration.
//!
//! On a terminal the lines of the steps are redrawn in place, with a spinner on running ones. Elsewhere (a pipe,
//! a file, CI) each step prints one plain line when it ends, so the output reads well in a log.

use super::runner::say;
use executor::engine::{Progress, ProgressEvent};
use executor::store::Status;
use expr_grammar::Timestamp;
use std::io::Write;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum View {
    /// Redrawn in place, with spinners.
    Live,
    /// One line per finished step.
    Plain,
    /// Nothing (`--json`).
    Quiet,
}

impl View {
    /// `Live` on a terminal, `Plain` otherwise; `Quiet` when the output is JSON.
    pub(crate) fn for_stdout(json: bool) -> View {
        use std::io::IsTerminal;
        if json {
            View::Quiet
        } else if std::io::stdout().is_terminal() {
            View::Live
        } else {
            View::Plain
        }
    }
}

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

#[derive(Debug, Clone)]
struct StepLine {
    execution: String,
    step_id: String,
    status: Status,
    attempt: u32,
    started: Option<std::time::Instant>,
    duration: Option<Duration>,
    note: Option<String>,
}

/// Renders events until every sender is gone.
pub(crate) async fn render(mut events: UnboundedReceiver<ProgressEvent>, view: View, show_execution: bool) {
    let mut lines: Vec<StepLine> = Vec::new();
    let mut drawn = 0;
    let mut frame = 0usize;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(event) => {
                    if let Some(header) = apply(&mut lines, event, view, show_execution) {
                        drawn = print_header(view, drawn, &header);
                    }
                }
                None => break,
            },
            _ = tick.tick(), if view == View::Live => frame += 1,
        }
        if view == View::Live {
            drawn = redraw(&lines, drawn, frame, show_execution);
        }
    }
    if view == View::Live {
        redraw(&lines, drawn, frame, show_execution);
    }
}

/// Updates the lines; returns a header line to print, if the event starts an execution.
fn apply(lines: &mut Vec<StepLine>, event: ProgressEvent, view: View, show_execution: bool) -> Option<String> {
    let execution = event.execution_id;
    let find = |lines: &mut Vec<StepLine>, step_id: &str| -> usize {
        match lines.iter().position(|l| l.execution == execution && l.step_id == step_id) {
            Some(index) => index,
            None => {
                lines.push(StepLine {
                    execution: execution.clone(),
                    step_id: step_id.to_string(),
                    status: Status::Pending,
                    attempt: 1,
                    started: None,
                    duration: None,
                    note: None,
                });
                lines.len() - 1
            }
        }
    };
    match event.event {
        Progress::Started { workflow, steps, resumed } => {
            let verb = if resumed { "resuming" } else { "running" };
            for step_id in steps {
                find(lines, &step_id);
            }
            return Some(format!("{verb} {workflow} (execution {execution})"));
        }
        Progress::Reused { step_id, status } => {
            let index = find(lines, &step_id);
            lines[index].status = status;
            lines[index].note = Some("done earlier".to_string());
            if view == View::Plain {
                say!("{}", plain_line(&lines[index], show_execution));
            }
        }
        Progress::StepStarted { step_id, .. } => {
            let index = find(lines, &step_id);
            lines[index].status = Status::Running;
            lines[index].started = Some(std::time::Instant::now());
        }
        Progress::StepRetrying { step_id, failed_attempt, delay, error } => {
            let index = find(lines, &step_id);
            lines[index].attempt = failed_attempt + 1;
            lines[index].note = Some(format!("attempt {failed_attempt} failed: {error}; retrying in {}", short(delay)));
            if view == View::Plain {
                say!("{}", plain_line(&lines[index], show_execution));
            }
        }
        Progress::StepFinished { step_id, status, attempts, started_at, completed_at, error } => {
            let index = find(lines, &step_id);
            let line = &mut lines[index];
            line.status = status;
            line.attempt = attempts.max(1);
            line.duration = Some(micros_between(started_at, completed_at));
            line.note = error;
            if view == View::Plain {
                say!("{}", plain_line(line, show_execution));
            }
        }
        Progress::Finished { .. } => {}
    }
    None
}

/// Prints a header above the step lines (clearing them first in the live view); returns the lines on screen.
fn print_header(view: View, drawn: usize, header: &str) -> usize {
    match view {
        View::Quiet => drawn,
        View::Plain => {
            say!("{header}");
            0
        }
        View::Live => {
            let up = if drawn > 0 { format!("\x1b[{drawn}A\x1b[J") } else { String::new() };
            println!("{up}{header}");
            0
        }
    }
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
    }
}

fn describe(line: &StepLine, elapsed: Option<Duration>) -> String {
    let mut text = line.status.as_str().to_string();
    if let Some(duration) = line.duration.or(elapsed) {
        text.push_str(&format!(" {}", short(duration)));
    }
    if line.attempt > 1 {
        text.push_str(&format!(" (attempt {})", line.attempt));
    }
    if let Some(note) = &line.note {
        text.push_str(&format!(": {note}"));
    }
    text
}

fn label(line: &StepLine, show_execution: bool) -> String {
    if show_execution {
        format!("{} {}", &line.execution[..line.execution.len().min(8)], line.step_id)
    } else {
        line.step_id.clone()
    }
}

fn plain_line(line: &StepLine, show_execution: bool) -> String {
    format!("{} {}", label(line, show_execution), describe(line, None))
}

/// Redraws every step line in place; returns how many lines are on screen now.
fn redraw(lines: &[StepLine], drawn: usize, frame: usize, show_execution: bool) -> usize {
    let width = lines.iter().map(|l| label(l, show_execution).chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    if drawn > 0 {
        out.push_str(&format!("\x1b[{drawn}A"));
    }
    for line in lines {
        let (mark, elapsed) = match line.status {
            Status::Running => (SPINNER[frame % SPINNER.len()], line.started.map(|s| s.elapsed())),
            status => (symbol(status), None),
        };
        let name = label(line, show_execution);
        out.push_str(&format!("\x1b[2K  {mark} {name:<width$}  {}\n", describe(line, elapsed)));
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    lines.len()
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
    fn a_plain_line_names_the_step_status_duration_attempts_and_error() {
        let line = StepLine {
            execution: "0193abcd-ef".into(),
            step_id: "copy_files".into(),
            status: Status::Failed,
            attempt: 3,
            started: None,
            duration: Some(Duration::from_millis(1500)),
            note: Some("item 2: permission denied".into()),
        };
        assert_eq!(plain_line(&line, false), "copy_files failed 1.5s (attempt 3): item 2: permission denied");
        assert_eq!(plain_line(&line, true), "0193abcd copy_files failed 1.5s (attempt 3): item 2: permission denied");
    }
}
