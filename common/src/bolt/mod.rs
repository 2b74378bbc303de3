//! (filled in by the bolt work)
