//! ApiVersionsResponse: header and body, every supported version, and the
//! v0 fallback decoding of `decode_any`.
#![no_main]

use kafka_wire::messages::api_versions::ApiVersionsResponse;
use kafka_wire::ApiKey;
use kafka_wire_fuzz::{pick_version, response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(decoded) = response::<ApiVersionsResponse>(ApiKey::ApiVersions, data) {
        // Exercise the helpers a connection calls on a decoded answer.
        let _ = decoded.broker_versions();
        let _ = decoded.fallback_version();
    }
    // `decode_any` takes the body after the (always v0) response header.
    if let (Some(&selector), Some(body)) = (data.first(), data.get(5..)) {
        let _ = ApiVersionsResponse::decode_any(body, pick_version(ApiKey::ApiVersions, selector));
    }
});
