//! The bolt reader on arbitrary bytes: parse, walk every bucket, account pages. Must never
//! panic, hang or allocate without bound.
#![no_main]

use heketi_doctor_common::bolt::BoltFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = BoltFile::parse(data) {
        let _ = file.read_all();
        let _ = file.page_stats();
        let _ = file.read_all_from_meta(1 - file.meta_index());
    }
});
