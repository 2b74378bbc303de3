//! Corpus tests: every sample under `tests/data/corpus` is parsed by its parser and concrete
//! facts read from the sample are asserted; plus garbage/truncation/mutation robustness.

mod assemble;
mod corpus_gluster;
mod corpus_lsblk;
mod corpus_lvm;
mod corpus_misc;
mod robustness;

use std::path::{Path, PathBuf};

pub(super) fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/corpus")
}

/// A corpus file as text (relative to the corpus dir).
pub(super) fn read(rel: &str) -> String {
    let p = corpus_dir().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A `public/` sample without its `# SOURCE:`/`# SOURCES:` line.
pub(super) fn public(rel: &str) -> String {
    let text = read(&format!("public/{rel}"));
    strip_source(&text)
}

pub(super) fn strip_source(text: &str) -> String {
    match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("# SOURCE") => rest.to_string(),
        _ => text.to_string(),
    }
}

/// A lab capture: `lab("node1", "vgs.json")`, `lab("after-live-drift/node2", "lvs.json")`.
pub(super) fn lab(node: &str, file: &str) -> String {
    read(&format!("lab-debian12/{node}/{file}"))
}

pub(super) const LAB_NODES: &[&str] = &[
    "node1",
    "node2",
    "node3",
    "after-live-drift/node1",
    "after-live-drift/node2",
    "after-live-drift/node3",
];

/// The lines strictly between the first line containing `start` and the next line containing
/// `end` (or the end of the text when `end` is empty).
pub(super) fn between(text: &str, start: &str, end: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in text.lines() {
        if !inside {
            if line.contains(start) {
                inside = true;
            }
            continue;
        }
        if !end.is_empty() && line.contains(end) {
            break;
        }
        out.push_str(line);
        out.push('\n');
    }
    assert!(inside, "marker {start:?} not found");
    out
}

/// The text without lines containing any of `markers`.
pub(super) fn without_lines(text: &str, markers: &[&str]) -> String {
    text.lines().filter(|l| !markers.iter().any(|m| l.contains(m))).map(|l| format!("{l}\n")).collect()
}
