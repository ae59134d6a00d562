//! The `pilot` command line: thin glue over the library crates (the service layer and daemon live in `server`).
//! Each subcommand lives in its own module under `cli/`, parses nothing itself and holds no logic beyond printing.

pub mod cli;
