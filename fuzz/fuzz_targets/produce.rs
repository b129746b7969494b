//! ProduceResponse: header and body, every supported version.
#![no_main]

use kafka_wire::messages::produce::ProduceResponse;
use kafka_wire::ApiKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kafka_wire_fuzz::response::<ProduceResponse>(ApiKey::Produce, data);
});
