//! Shared helpers for the workspace-level tests live in `tests/tests/common/`; this crate has no
//! library code of its own.
