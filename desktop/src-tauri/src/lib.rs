//! Dooz Pilot's desktop app: the UI the daemon serves, in a window, over the daemon's own HTTP API. It attaches to
//! the daemon running for `$PILOT_HOME` or starts one ([`session`]); the tray menu lists the unfinished
//! executions and a failed one raises a desktop notification ([`running`], [`tray`]). `main.rs` wires these
//! into Tauri. See docs/desktop.md.

pub mod page;
pub mod running;
pub mod session;
pub mod tray;
