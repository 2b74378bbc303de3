//! Finding the current tree when neither meta page is valid.
//!
//! Bolt's copy-on-write commit leaves, for the newest transaction, a root-bucket page and a
//! freelist page such that every page below pgid is reachable from the root exactly once, or
//! the freelist page itself, or listed free — never two of these (spec §1.11). Such a
//! (root, freelist) pair is a *consistent state*. The scan finds every intact root-bucket page
//! (a leaf whose elements are all buckets, or a branch leading to one) and every intact freelist
//! page, walks each root, and keeps the pairs that are consistent.
//!
//! Usually the previous transaction's state is intact and consistent too (its pages were freed
//! by the newest transaction but not yet reused). To order two states:
//! 1. a meta page that fails validation but still carries bolt's magic names its root and
//!    freelist and its txid: the pair with the highest such txid wins;
//! 2. otherwise the larger implied pgid (files only grow) is newer;
//! 3. otherwise bolt's allocator decides: it hands out the lowest free page ids first, so the
//!    pages a newer state uses and the older one does not are the lowest ids of the older
//!    state's freelist (checked both ways; if both or neither hold, the order is ambiguous and
//!    reported as such).

use super::super::error::PageRef;
use super::super::page::{self, BRANCH_PAGE, FREELIST_PAGE, LEAF_PAGE};
use super::super::tree::{PageSet, MAX_DEPTH};
use super::walk::{raw_span, TreeWalk};
use super::{Ctx, MetaSlot};

/// Root candidates walked at most (stale root pages in free space; a heketi.db has a few).
const MAX_ROOTS: usize = 256;
/// Freelist pages considered at most.
const MAX_FREELISTS: usize = 256;

/// The chosen state.
#[derive(Debug, Clone)]
pub(crate) struct Recon {
    pub(crate) root: u64,
    pub(crate) freelist: Option<u64>,
    pub(crate) pgid: u64,
    pub(crate) states: usize,
    pub(crate) certain: bool,
    pub(crate) how: String,
    /// The best other consistent state's root and pgid (walked as the "older tree" so that
    /// entries differing between the two are flagged).
    pub(crate) runner_up: Option<(u64, u64)>,
}

struct State {
    root: u64,
    freelist: u64,
    pgid: u64,
    /// Tree pages and the freelist's own pages.
    used: PageSet,
    free: PageSet,
    free_sorted: Vec<u64>,
    txid: Option<u64>,
}

struct FreelistPage {
    page: u64,
    pages: u64,
    ids: Vec<u64>,
}

/// Every consistent (root, freelist) state of the file, and every intact root (with its tree size).
fn states(ctx: &Ctx<'_>, metas: &[MetaSlot; 2]) -> (Vec<State>, Vec<(u64, u64)>) {
    let n = ctx.file_pages;
    let mut root_leaves = PageSet::new(n);
    let mut roots = Vec::new();
    let mut first_child = std::collections::BTreeMap::new();
    let mut freelists = Vec::new();
    for p in 2..n {
        let Some((h, span)) = raw_span(ctx.data, ctx.endian, ctx.page_size, n, p) else { continue };
        if h.id != p {
            continue;
        }
        match h.flags {
            LEAF_PAGE => {
                if let Ok(els) = page::leaf_elements(span, ctx.endian) {
                    if !els.is_empty() && els.iter().all(|e| e.is_bucket()) {
                        root_leaves.insert(p);
                        roots.push(p);
                    }
                }
            }
            BRANCH_PAGE => {
                if let Some(first) =
                    page::branch_elements(span, ctx.endian).ok().and_then(|e| e.first().copied())
                {
                    first_child.insert(p, first.child);
                }
            }
            FREELIST_PAGE if freelists.len() < MAX_FREELISTS => {
                if let Ok(ids) = page::freelist_ids(span, ctx.endian) {
                    let ids: Vec<u64> = ids.iter().collect();
                    let sorted = ids.windows(2).all(|w| matches!(w, [a, b] if a < b));
                    if sorted && ids.iter().all(|&x| x >= 2 && x < n) {
                        freelists.push(FreelistPage { page: p, pages: u64::from(h.overflow) + 1, ids });
                    }
                }
            }
            _ => {}
        }
    }
    // Branch roots: a branch whose leftmost descent ends in a root-bucket leaf.
    for &b in first_child.keys() {
        let mut cur = b;
        for _ in 0..MAX_DEPTH {
            match first_child.get(&cur) {
                Some(&c) => cur = c,
                None => break,
            }
        }
        if cur != b && root_leaves.contains(cur) {
            roots.push(b);
        }
    }

    let mut states: Vec<State> = Vec::new();
    let mut complete: Vec<(u64, u64)> = Vec::new();
    for &r in roots.iter().take(MAX_ROOTS) {
        let mut tw = TreeWalk::new(ctx.data, ctx.endian, ctx.page_size, n, 0);
        tw.walk_all(r, PageRef::Reconstructed);
        if !tw.clean() || tw.buckets.is_empty() {
            continue;
        }
        let tree = tw.w.visited;
        let tree_pages = tree.count();
        complete.push((r, tree_pages));
        for f in &freelists {
            let span_end = f.page.saturating_add(f.pages);
            if (f.page..span_end).any(|p| tree.contains(p)) {
                continue;
            }
            if f.ids.iter().any(|&x| tree.contains(x) || (f.page..span_end).contains(&x)) {
                continue;
            }
            let max_used = (2..n).rev().find(|&p| tree.contains(p)).unwrap_or(0);
            let max = max_used.max(span_end - 1).max(f.ids.last().copied().unwrap_or(0));
            let pgid = max + 1;
            // Disjoint sets covering [2, pgid) exactly: the counts must add up.
            if tree_pages + f.pages + f.ids.len() as u64 != pgid.saturating_sub(2) {
                continue;
            }
            let mut used = tree.clone();
            for p in f.page..span_end {
                used.insert(p);
            }
            let mut free = PageSet::new(n);
            for &x in &f.ids {
                free.insert(x);
            }
            let txid = metas
                .iter()
                .filter_map(|m| m.raw.as_ref())
                .filter(|m| m.root == r && m.freelist == f.page)
                .map(|m| m.txid)
                .max();
            states.push(State {
                root: r,
                freelist: f.page,
                pgid,
                used,
                free,
                free_sorted: f.ids.clone(),
                txid,
            });
        }
    }

    (states, complete)
}

/// The newest consistent state other than (`root`, `freelist`): a newer state whose meta was
/// destroyed, when the surviving meta is the older one. `(root, pgid)`.
pub(crate) fn alternative(
    ctx: &Ctx<'_>,
    metas: &[MetaSlot; 2],
    root: u64,
    freelist: u64,
) -> Option<(u64, u64)> {
    let (states, _) = states(ctx, metas);
    runner_up(&states, root, freelist)
}

pub(crate) fn reconstruct(ctx: &Ctx<'_>, metas: &[MetaSlot; 2]) -> Option<Recon> {
    let n = ctx.file_pages;
    let (states, complete) = states(ctx, metas);
    if states.is_empty() {
        // No freelist fits any intact root: take the biggest intact tree, free pages unknown.
        let &(root, pages) = complete.iter().max_by_key(|(r, pages)| (*pages, *r))?;
        return Some(Recon {
            root,
            freelist: None,
            pgid: n,
            states: 0,
            certain: complete.len() == 1,
            how: format!(
                "{} intact root-bucket page(s), none with a consistent freelist; took the largest tree ({pages} pages)",
                complete.len()
            ),
            runner_up: complete.iter().filter(|(r, _)| *r != root).max_by_key(|(r, p)| (*p, *r)).map(|&(r, _)| (r, n)),
        });
    }

    if let Some(best) = states.iter().filter(|s| s.txid.is_some()).max_by_key(|s| s.txid) {
        return Some(Recon {
            root: best.root,
            freelist: Some(best.freelist),
            pgid: best.pgid,
            states: states.len(),
            certain: true,
            how: format!(
                "a damaged meta page still names root {} and freelist {} (txid {}), and they are consistent",
                best.root,
                best.freelist,
                best.txid.unwrap_or(0)
            ),
            runner_up: runner_up(&states, best.root, best.freelist),
        });
    }

    let mut best = 0usize;
    for i in 1..states.len() {
        if let (Some(x), Some(b)) = (states.get(i), states.get(best)) {
            if newer(x, b) == Some(true) {
                best = i;
            }
        }
    }
    let chosen = states.get(best)?;
    let certain = states.iter().enumerate().all(|(i, o)| i == best || newer(chosen, o) == Some(true));
    let how = if states.len() == 1 {
        format!("the only consistent root+freelist state (freelist page {})", chosen.freelist)
    } else if certain {
        format!(
            "the newest of {} consistent root+freelist states (by high-water mark and allocation order)",
            states.len()
        )
    } else {
        format!(
            "{} consistent root+freelist states whose order could not be established; this one may be a \
             transaction old",
            states.len()
        )
    };
    Some(Recon {
        root: chosen.root,
        freelist: Some(chosen.freelist),
        pgid: chosen.pgid,
        states: states.len(),
        certain,
        how,
        runner_up: runner_up(&states, chosen.root, chosen.freelist),
    })
}

/// The state the chosen one beats (newest among the rest), if any.
fn runner_up(states: &[State], root: u64, freelist: u64) -> Option<(u64, u64)> {
    let rest: Vec<&State> = states.iter().filter(|s| s.root != root || s.freelist != freelist).collect();
    let mut best = *rest.first()?;
    for s in rest.iter().skip(1) {
        if newer(s, best) == Some(true) {
            best = s;
        }
    }
    Some((best.root, best.pgid))
}

/// Whether state `x` is newer than `y`: `Some(answer)` or `None` if undecided.
fn newer(x: &State, y: &State) -> Option<bool> {
    if x.pgid != y.pgid {
        return Some(x.pgid > y.pgid);
    }
    if x.root == y.root && x.freelist == y.freelist {
        return None;
    }
    match (allocated_after(x, y), allocated_after(y, x)) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// Whether the pages `x` uses and `y` does not are exactly the lowest ids of `y`'s freelist (or
/// lie beyond `y`'s pgid): what bolt's lowest-first allocator produces when `x` follows `y`.
fn allocated_after(x: &State, y: &State) -> bool {
    let new: Vec<u64> = (2..x.pgid).filter(|&p| x.used.contains(p) && !y.used.contains(p)).collect();
    if new.is_empty() {
        return false;
    }
    if !new.iter().all(|&p| p >= y.pgid || y.free.contains(p)) {
        return false;
    }
    let Some(&max) = new.iter().filter(|&&p| p < y.pgid).max() else { return true };
    y.free_sorted.iter().take_while(|&&f| f < max).all(|f| new.binary_search(f).is_ok())
}
