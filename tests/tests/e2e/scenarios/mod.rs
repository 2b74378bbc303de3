//! The scenarios, in the order they run: read-only ones first, the ones that change the live
//! cluster last.

mod agent;
mod clean;
mod damaged_db;
mod db_drift;
mod live_drift;
mod lost_db;

use super::Scenario;

pub const ALL: &[Scenario] = &[
    Scenario { name: "clean_cluster", run: clean::run },
    Scenario { name: "db_drift", run: db_drift::run },
    Scenario { name: "damaged_db", run: damaged_db::run },
    Scenario { name: "lost_db", run: lost_db::run },
    Scenario { name: "agent_collect_in_nodes", run: agent::collect_in_nodes },
    Scenario { name: "agent_capture_offline", run: agent::capture_offline },
    Scenario { name: "agent_mtls_handshake", run: agent::mtls_handshake },
    Scenario { name: "agent_mtls_collect", run: agent::mtls_collect },
    Scenario { name: "agent_killed_mid_collection", run: agent::killed_mid_collection },
    Scenario { name: "agent_slower_than_timeout", run: agent::slower_than_timeout },
    Scenario { name: "agent_foreign_ca", run: agent::foreign_ca },
    Scenario { name: "live_drift", run: live_drift::run },
];
