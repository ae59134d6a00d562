//! `pilot serve`: the long-running service that owns the triggers.

pub mod catalog;
pub mod events;
