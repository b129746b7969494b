//! MetadataResponse: header and body, every supported version.
#![no_main]

use kafka_wire::messages::metadata::MetadataResponse;
use kafka_wire::ApiKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kafka_wire_fuzz::response::<MetadataResponse>(ApiKey::Metadata, data);
});
