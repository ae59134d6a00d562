//! `pilot completions SHELL` and `pilot man`: generated from the clap definition, so they never drift from it.

use std::process::ExitCode;

use super::exit;
use super::output::print;
use super::ui;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

pub fn completions(args: &CompletionsArgs, command: &mut clap::Command) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, command, "pilot", &mut script);
    print(&String::from_utf8_lossy(&script));
    ExitCode::SUCCESS
}

pub fn man(command: &clap::Command) -> ExitCode {
    let mut page = Vec::new();
    if let Err(error) = clap_mangen::Man::new(command.clone()).render(&mut page) {
        return ui::fail(exit::FAILED, &format!("cannot render the manual page: {error}"));
    }
    print(&String::from_utf8_lossy(&page));
    ExitCode::SUCCESS
}
