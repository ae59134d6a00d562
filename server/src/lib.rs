//! Dooz Pilot's service layer and daemon. The CLI, `pilot serve` and the desktop app call the same functions here.

pub mod api;
pub mod client;
pub mod credentials;
pub mod daemon;
pub mod home;
pub mod offline;
pub mod runs;
pub mod schedule;
pub mod serve;
pub mod service;
pub mod settings;
pub mod store_location;
pub mod toolbox;
pub mod ui;
pub mod webhooks;
