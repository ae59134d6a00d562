//! How the user asked `pilot` to talk, from the global flags: colour (`--color`, `NO_COLOR`), `--quiet`,
//! `--verbose` and `--json`. `main` sets it once; every command reads it here, so each rule holds everywhere.
//!
//! Streams: results go to stdout; progress, diagnostics of `run`/`compile`, warnings and errors go to stderr.
//! With `--json` a command prints one JSON document on stdout, also when it fails (`{"error": ...}`), so a
//! script always has something to parse; the same error is said on stderr for the person watching.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::OnceLock;

use super::exit;
use super::output::outln;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal unless `NO_COLOR` is set.
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Default)]
pub struct Ui {
    pub color: ColorChoice,
    /// `-q`: no progress and no warnings; results and errors only.
    pub quiet: bool,
    /// `-v` (info), `-vv` (debug), `-vvv` (trace) of Pilot's own log events, unless `RUST_LOG` says otherwise.
    pub verbose: u8,
    pub json: bool,
}

static UI: OnceLock<Ui> = OnceLock::new();

/// Sets the choices for this process; only the first call counts.
pub fn init(ui: Ui) {
    let _ = UI.set(ui);
}

pub fn get() -> &'static Ui {
    UI.get_or_init(Ui::default)
}

pub fn json() -> bool {
    get().json
}

pub fn quiet() -> bool {
    get().quiet
}

/// Whether to colour what goes to stdout.
pub fn color_stdout() -> bool {
    wants_color(std::io::stdout().is_terminal())
}

/// Whether to colour what goes to stderr.
pub fn color_stderr() -> bool {
    wants_color(std::io::stderr().is_terminal())
}

fn wants_color(is_terminal: bool) -> bool {
    match get().color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        // https://no-color.org: set and not empty.
        ColorChoice::Auto => is_terminal && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty()),
    }
}

/// `warning: MESSAGE` on stderr, unless `--quiet`.
pub fn warn(message: &str) {
    if !quiet() {
        eprintln!("{}: {message}", paint_stderr("warning", YELLOW));
    }
}

/// `error: MESSAGE` on stderr (and `{"error": MESSAGE}` on stdout with `--json`); returns the exit code.
pub fn fail(status: u8, message: &str) -> ExitCode {
    eprintln!("{}: {message}", paint_stderr("error", RED));
    if json() {
        let document = serde_json::json!({ "error": message, "exit_code": status });
        outln!("{}", serde_json::to_string_pretty(&document).unwrap_or_default());
    }
    exit::code(status)
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";

fn paint_stderr(word: &str, color: &str) -> String {
    if color_stderr() { format!("{color}{word}\x1b[0m") } else { word.to_owned() }
}

/// Installs the `tracing` subscriber: `RUST_LOG` when set (e.g. `RUST_LOG=executor=debug`), else warnings of
/// Pilot's own crates, raised by `-v`. Events go to stderr.
pub fn install_tracing() {
    use tracing_subscriber::EnvFilter;
    let level = match get().verbose {
        0 if quiet() => "error",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!("warn,pilot={level},executor={level},compiler={level},connectors={level}"))
    });
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color_stderr())
        .with_target(true)
        .try_init();
}
