//! `export --salvage` end to end: any bytes in, never a panic; the report and export always
//! render.
#![no_main]

use heketi_doctor_common::heketi;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = heketi::salvage(data);
    let _ = heketi::to_export_json(&s.db);
    let _ = s.report.to_text("fuzz");
});
