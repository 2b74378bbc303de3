//! (filled in by the gob work)
