//! (filled in by the inventory work)
