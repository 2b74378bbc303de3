//! The gob decoder and the heketi entry mapping on arbitrary bytes.
#![no_main]

use heketi_doctor_common::{gob, heketi};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = gob::decode(data);
    let _ = heketi::decode_entry(data, None);
});
