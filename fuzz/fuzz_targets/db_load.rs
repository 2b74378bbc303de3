//! The whole `--db` input path: format detection, gzip, bolt, gob, entries, JSON.
#![no_main]

use heketi_doctor_common::heketi;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(loaded) = heketi::load(data) {
        let _ = heketi::to_export_json(&loaded.db);
    }
});
