//! Every exit status `pilot` uses, in one place; `pilot --help` prints [`TABLE`] and docs/running.md repeats it.
//! The rule is cargo's and git's: 0 when the work succeeded, 1 when it ran and failed, 2 when nothing ran.

use std::process::ExitCode;

/// The work succeeded (a long-running command that stopped cleanly on a signal also ends with 0).
pub const SUCCESS: u8 = 0;
/// The work ran and failed: a step failed, an execution was cancelled, `check` found errors, the store failed.
pub const FAILED: u8 = 1;
/// Nothing ran: bad usage, an invalid workflow given to `run` or `compile`, an unreadable file, an unknown id.
pub const NOT_RUN: u8 = 2;
/// Interrupted by Ctrl-C (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;
/// The reader of stdout went away (`pilot check | head -1`): 128 + SIGPIPE, as shells report it.
pub const BROKEN_PIPE: u8 = 141;

/// The table printed at the end of `pilot --help`.
pub const TABLE: &str = "\
Exit status:
  0    success
  1    the work ran and failed (a step failed, `check` found errors)
  2    nothing ran (invalid workflow, unreadable file, unknown id, bad usage)
  130  interrupted by Ctrl-C
  141  stdout was closed early (as SIGPIPE)";

pub fn code(status: u8) -> ExitCode {
    ExitCode::from(status)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_lists_every_status() {
        for status in [super::SUCCESS, super::FAILED, super::NOT_RUN, super::INTERRUPTED, super::BROKEN_PIPE] {
            assert!(super::TABLE.contains(&format!("\n  {status} ")), "{status} missing from the table");
        }
    }
}
