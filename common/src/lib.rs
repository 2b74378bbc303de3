//! heketi-doctor's domain library.
//!
//! Architecture invariant: this crate does no network I/O, spawns no processes and reads no
//! clock; callers hand it bytes and strings. Everything here is deterministic and unit-testable.
//!
//! Data flow (see ARCHITECTURE.md): [`bolt`] pages → [`gob`] values → [`heketi`] typed entries
//! and export JSON; [`inventory`] parses what the agent collects on a node.

pub mod bolt;
pub mod diff;
pub mod gob;
pub mod heketi;
pub mod inventory;
pub mod rebuild;
pub mod topology;
