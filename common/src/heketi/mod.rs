//! (filled in by the heketi work)
