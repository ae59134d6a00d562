//! The `pilot` command line: thin glue over the library crates. Each subcommand lives in its own module under
//! `cli/`, parses nothing itself and holds no logic beyond printing.

pub mod cli;
pub mod home;
pub mod settings;
pub mod toolbox;
