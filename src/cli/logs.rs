//! `pilot logs ID [--follow]`: prints an execution's log (`$PILOT_HOME/logs/<execution-id>.log`), one event per
//! line. With `--follow`, keeps printing new lines until the execution ends. With `--json`, a JSON array of
//! `{at, level, step_id, message}` (with `--follow`: one such object per line, as they come). An id may be any
//! unique prefix or suffix; an unknown or ambiguous one exits 2.

use std::process::ExitCode;
use std::time::Duration;

use executor::store::Store;
use serde_json::{Value as Json, json};

use super::executions::{resolve, store_failed, with_store};
use super::output::{outln, print};
use super::ui;

/// How often `--follow` looks for new lines and for the execution's end.
const FOLLOW_POLL: Duration = Duration::from_millis(200);

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// The execution id, or a unique prefix or suffix of it.
    pub id: String,
    /// Keep printing new lines as they are written, until the execution ends.
    #[arg(short, long)]
    pub follow: bool,
}

pub fn run(args: &LogsArgs) -> ExitCode {
    with_store(|store| async move {
        let id = match resolve(store.as_ref(), &args.id).await {
            Ok(id) => id,
            Err(code) => return code,
        };
        if args.follow {
            return follow(store.as_ref(), &id).await;
        }
        let text = match store.read_log(&id).await {
            Ok(text) => text.unwrap_or_default(),
            Err(error) => return store_failed(&error),
        };
        if ui::json() {
            let lines: Vec<Json> = text.lines().map(parse_line).collect();
            outln!("{}", serde_json::to_string_pretty(&lines).unwrap_or_default());
        } else if text.is_empty() {
            ui::warn(&format!("execution {id} has no log yet"));
        } else {
            print(&text);
        }
        ExitCode::SUCCESS
    })
}

/// Prints the log's complete lines as they appear; ends once the execution has ended and its log is read.
async fn follow(store: &dyn Store, id: &str) -> ExitCode {
    let mut printed = 0;
    loop {
        // Read the status first: lines written before the end are then surely in the text read after it.
        let finished = match store.load_execution(id).await {
            Ok(record) => record.is_none_or(|record| record.status.is_finished()),
            Err(error) => return store_failed(&error),
        };
        let text = match store.read_log(id).await {
            Ok(text) => text.unwrap_or_default(),
            Err(error) => return store_failed(&error),
        };
        let complete = text[printed..].rfind('\n').map_or(printed, |end| printed + end + 1);
        for line in text[printed..complete].lines() {
            if ui::json() {
                outln!("{}", parse_line(line));
            } else {
                outln!("{line}");
            }
        }
        printed = complete;
        if finished {
            return ExitCode::SUCCESS;
        }
        tokio::time::sleep(FOLLOW_POLL).await;
    }
}

/// `2026-11-24T10:00:00.123456Z INFO  [step] message` as `{at, level, step_id, message}`.
fn parse_line(line: &str) -> Json {
    let line = executor::store::RenderedLine::parse(line);
    json!({ "at": line.at, "level": line.level, "step_id": line.step_id, "message": line.message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_line_becomes_its_fields() {
        let line = "2026-11-24T10:00:00.123456Z INFO  [copy_files] copied 3 files";
        assert_eq!(
            parse_line(line),
            json!({"at": "2026-11-24T10:00:00.123456Z", "level": "INFO", "step_id": "copy_files", "message": "copied 3 files"})
        );
        let line = "2026-11-24T10:00:00.123456Z WARN  execution cancelled";
        assert_eq!(parse_line(line)["step_id"], Json::Null);
        assert_eq!(parse_line(line)["message"], "execution cancelled");
    }
}
