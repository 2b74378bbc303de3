//! `heketidoctor.v1`: the gRPC API between `heketi-doctor-agent` (server) and the controller
//! (client), generated at build time from `heketidoctor/v1/inventory.proto` (protox, no system
//! protoc), plus the mapping between the proto [`v1::Report`] and
//! [`heketi_doctor_common::inventory::NodeReport`], which travels as JSON inside it.

use heketi_doctor_common::inventory::{NodeReport, ReportError, NODE_REPORT_SCHEMA_VERSION};

/// Generated messages, client (`node_inventory_client`) and server (`node_inventory_server`).
#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod v1 {
    tonic::include_proto!("heketidoctor.v1");
}

/// The service name as registered with gRPC health (`heketidoctor.v1.NodeInventory`).
pub const NODE_INVENTORY_SERVICE: &str = "heketidoctor.v1.NodeInventory";

/// Why a [`v1::Report`] could not be turned back into a [`NodeReport`].
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error(
        "report envelope: schema {found} is newer than the supported {supported}; upgrade heketi-doctor"
    )]
    Schema { found: u32, supported: u32 },
    #[error("report envelope: report_json is not UTF-8")]
    Utf8,
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("report envelope: header says host {envelope:?}, the report says {report:?}")]
    HeaderMismatch { envelope: String, report: String },
}

/// Wraps a report for the wire. `generation`/`changed`: see the proto.
pub fn encode_report(
    report: &NodeReport,
    generation: u64,
    changed: bool,
) -> Result<v1::Report, serde_json::Error> {
    Ok(v1::Report {
        schema_version: report.schema_version,
        hostname: report.identity.hostname.clone(),
        agent_version: report.agent_version.clone(),
        collected_at: report.collected_at,
        report_json: serde_json::to_vec(report)?,
        generation,
        changed,
        failed_sources: failed_sources(report),
    })
}

/// Names (`kebab-case`, as in the JSON) of the sources that failed or timed out.
pub fn failed_sources(report: &NodeReport) -> Vec<String> {
    use heketi_doctor_common::inventory::SourceStatus;
    report
        .sources
        .iter()
        .filter(|(_, r)| matches!(r.status, SourceStatus::Failed { .. } | SourceStatus::TimedOut))
        .map(|(s, _)| {
            serde_json::to_value(s).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
        })
        .collect()
}

/// Unwraps a report received from an agent; refuses schemas newer than this build knows.
pub fn decode_report(msg: &v1::Report) -> Result<NodeReport, DecodeError> {
    if msg.schema_version > NODE_REPORT_SCHEMA_VERSION {
        return Err(DecodeError::Schema { found: msg.schema_version, supported: NODE_REPORT_SCHEMA_VERSION });
    }
    let text = std::str::from_utf8(&msg.report_json).map_err(|_| DecodeError::Utf8)?;
    let report = NodeReport::from_json(text)?;
    if report.identity.hostname != msg.hostname {
        return Err(DecodeError::HeaderMismatch {
            envelope: msg.hostname.clone(),
            report: report.identity.hostname.clone(),
        });
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use heketi_doctor_common::inventory::{Source, SourceStatus};

    #[test]
    fn round_trip_and_schema_guard() {
        let mut r = NodeReport::new("node1", "0.1.0", 1_700_000_000);
        r.record(Source::Vgs, SourceStatus::Ok, 3);
        r.record(Source::Lvs, SourceStatus::TimedOut, 30_000);
        let msg = encode_report(&r, 7, true).unwrap();
        assert_eq!((msg.hostname.as_str(), msg.generation, msg.changed), ("node1", 7, true));
        assert_eq!(msg.failed_sources, ["lvs"]);
        assert_eq!(decode_report(&msg).unwrap(), r);

        let mut newer = msg.clone();
        newer.schema_version = NODE_REPORT_SCHEMA_VERSION + 1;
        assert!(matches!(decode_report(&newer), Err(DecodeError::Schema { .. })));
        let mut garbage = msg.clone();
        garbage.report_json = b"{".to_vec();
        assert!(matches!(decode_report(&garbage), Err(DecodeError::Report(_))));
        let mut other = msg;
        other.hostname = "node2".into();
        assert!(matches!(decode_report(&other), Err(DecodeError::HeaderMismatch { .. })));
    }
}
