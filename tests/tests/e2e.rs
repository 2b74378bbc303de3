//! End-to-end tests on the lab (`deploy/lab`, README "End-to-end lab"): three GlusterFS nodes on
//! this machine, each a network + mount + UTS + PID namespace with its own glusterd and
//! heketi-shaped LVM, and the heketi.db that describes them. The real tools produce the state;
//! the real `heketi-doctor` binary is run against it.
//!
//! `cargo test --test e2e` runs it (a few minutes). Its own runner (`harness = false`): the lab is
//! brought up once, the scenarios run in order against it, the lab is torn down. Arguments that
//! are not flags filter scenarios by name (`cargo test --test e2e -- lost_db`), like libtest.
//!
//! Needs root and the Debian packages `.ci/run` installs. Without them it prints one line
//! ("e2e: skipped: <reason>") and passes — unless `CI` is set, where it fails.
//! HD_E2E_KEEP=1 leaves the lab up afterwards; HD_E2E_DIR moves its state directory;
//! HD_E2E_NODES runs it on more nodes (default 3; with 6 the disperse volume is 4+2).

#[path = "e2e/mod.rs"]
mod e2e;

use std::process::ExitCode;
use std::time::Instant;

use e2e::{bins, lab, prereq, scenarios, Ctx, Verdict};

fn cannot_run(reason: &str) -> ExitCode {
    if prereq::in_ci() {
        eprintln!("e2e: FAILED: the lab cannot run here and CI is set: {reason}");
        ExitCode::FAILURE
    } else {
        println!("e2e: skipped: {reason}");
        ExitCode::SUCCESS
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&str> = args.iter().filter(|a| !a.starts_with('-')).map(String::as_str).collect();
    let exact = args.iter().any(|a| a == "--exact");
    let selected: Vec<&e2e::Scenario> = scenarios::ALL
        .iter()
        .filter(|s| {
            let full = format!("e2e::{}", s.name);
            filters.is_empty() || filters.iter().any(|f| if exact { full == *f } else { full.contains(f) })
        })
        .collect();
    if args.iter().any(|a| a == "--list") {
        for s in &selected {
            println!("e2e::{}: test", s.name);
        }
        return ExitCode::SUCCESS;
    }
    if selected.is_empty() {
        return ExitCode::SUCCESS; // a filter for some other test target
    }

    if let Err(reason) = prereq::check() {
        return cannot_run(&reason);
    }
    let start = Instant::now();
    let bins = match bins::find() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("e2e: FAILED: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    lab::remove_stale(&bins.heketi_doctor);
    let name = format!("e2e{}", std::process::id());
    let nodes =
        std::env::var("HD_E2E_NODES").ok().and_then(|n| n.parse().ok()).filter(|n| *n >= 3).unwrap_or(3);
    let lab = lab::Lab::new(&name, nodes, &bins.heketi_doctor);
    if let Err(e) = lab.check() {
        return cannot_run(&format!("{e:#}"));
    }
    eprintln!("e2e: bringing up lab {name} ({nodes} nodes) in {}", lab.dir.display());
    if let Err(e) = lab.up() {
        // `lab` is dropped here: its partial state is torn down.
        return cannot_run(&format!("the lab did not come up: {e:#}"));
    }
    eprintln!("e2e: lab up after {:.0?}", start.elapsed());
    let mut ctx = match Ctx::new(lab, bins) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("e2e: FAILED: {e:#}");
            return ExitCode::FAILURE;
        }
    };

    let mut failed = Vec::new();
    for s in &selected {
        let t = Instant::now();
        let result = (s.run)(&mut ctx);
        let took = t.elapsed();
        match result {
            Ok(Verdict::Pass) => println!("test e2e::{} ... ok ({took:.1?})", s.name),
            Ok(Verdict::Skip(why)) => println!("test e2e::{} ... skipped: {why}", s.name),
            Err(e) => {
                println!("test e2e::{} ... FAILED ({took:.1?})", s.name);
                eprintln!("---- e2e::{} ----\n{e:#}\n", s.name);
                failed.push(s.name);
            }
        }
    }
    drop(ctx); // tears the lab down (unless HD_E2E_KEEP)
    let total = start.elapsed();
    if failed.is_empty() {
        println!("e2e: {} scenarios passed or skipped in {total:.0?}", selected.len());
        ExitCode::SUCCESS
    } else {
        println!("e2e: FAILED: {} in {total:.0?}", failed.join(", "));
        ExitCode::FAILURE
    }
}
