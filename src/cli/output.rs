//! The commands' output on stdout. `println!` panics when the reader has gone (`pilot check | head -1`: a broken
//! pipe); here the process ends quietly with status 141 (128 + SIGPIPE), what a shell reports for any Unix tool
//! stopped that way, so `set -o pipefail` scripts never take a cut-short `pilot check` for a clean one. Any other
//! write error (a full disk behind `>`) is reported and ends it with status 1.

use std::io::Write;

/// Writes `text` to stdout and flushes it, so that a closed pipe shows here and not at exit.
pub fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(i32::from(super::exit::BROKEN_PIPE));
        }
        eprintln!("error: cannot write the output: {error}");
        std::process::exit(i32::from(super::exit::FAILED));
    }
}

/// `print!` through [`print`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::print(&format!($($arg)*))
    };
}

/// `println!` through [`print`].
macro_rules! outln {
    () => {
        $crate::cli::output::print("\n")
    };
    ($($arg:tt)*) => {
        $crate::cli::output::print(&format!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};
