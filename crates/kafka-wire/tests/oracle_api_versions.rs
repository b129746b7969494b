//! ApiVersions checked against the `kafka-protocol` crate, for every version.

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::api_versions_response as kp_resp;
use kafka_protocol::messages::{ApiVersionsRequest as KpRequest, ApiVersionsResponse as KpResponse};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafka_wire::messages::api_versions::*;
use kafka_wire::messages::{Request, Response};
use kafka_wire::{ApiKey, ErrorCode, Reader, Writer};
use proptest::collection::vec;
use proptest::prelude::*;

const API: ApiKey = ApiKey::ApiVersions;

fn versions() -> impl Iterator<Item = i16> {
    let range = API.supported();
    range.min..=range.max
}

fn s(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_owned())
}

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9.-]{0,24}"
}

fn request() -> impl Strategy<Value = ApiVersionsRequest> {
    (name(), name()).prop_map(
        |(client_software_name, client_software_version)| ApiVersionsRequest {
            client_software_name,
            client_software_version,
        },
    )
}

fn response() -> impl Strategy<Value = ApiVersionsResponse> {
    let key = (any::<i16>(), any::<i16>(), any::<i16>()).prop_map(|(api_key, min_version, max_version)| {
        ApiVersion {
            api_key,
            min_version,
            max_version,
        }
    });
    let supported =
        (name(), any::<i16>(), any::<i16>()).prop_map(|(name, min_version, max_version)| SupportedFeature {
            name,
            min_version,
            max_version,
        });
    let finalized =
        (name(), any::<i16>(), any::<i16>()).prop_map(|(name, max_version_level, min_version_level)| {
            FinalizedFeature {
                name,
                max_version_level,
                min_version_level,
            }
        });
    (
        any::<i16>(),
        vec(key, 0..6),
        any::<i32>(),
        vec(supported, 0..3),
        prop_oneof![Just(-1i64), any::<i64>()],
        vec(finalized, 0..3),
        any::<bool>(),
    )
        .prop_map(
            |(error_code, api_keys, throttle_time_ms, supported_features, epoch, finalized_features, zk)| {
                ApiVersionsResponse {
                    error_code: ErrorCode(error_code),
                    api_keys,
                    throttle_time_ms,
                    supported_features,
                    finalized_features_epoch: epoch,
                    finalized_features,
                    zk_migration_ready: zk,
                }
            },
        )
}

/// Drops what `version` cannot carry.
fn for_version(mut response: ApiVersionsResponse, version: i16) -> ApiVersionsResponse {
    if version < 1 {
        response.throttle_time_ms = 0;
    }
    if version < 3 {
        response.supported_features.clear();
        response.finalized_features_epoch = -1;
        response.finalized_features.clear();
        response.zk_migration_ready = false;
    }
    response
}

fn to_kp(response: &ApiVersionsResponse) -> KpResponse {
    KpResponse::default()
        .with_error_code(response.error_code.0)
        .with_api_keys(
            response
                .api_keys
                .iter()
                .map(|k| {
                    kp_resp::ApiVersion::default()
                        .with_api_key(k.api_key)
                        .with_min_version(k.min_version)
                        .with_max_version(k.max_version)
                })
                .collect(),
        )
        .with_throttle_time_ms(response.throttle_time_ms)
        .with_supported_features(
            response
                .supported_features
                .iter()
                .map(|f| {
                    kp_resp::SupportedFeatureKey::default()
                        .with_name(s(&f.name))
                        .with_min_version(f.min_version)
                        .with_max_version(f.max_version)
                })
                .collect(),
        )
        .with_finalized_features_epoch(response.finalized_features_epoch)
        .with_finalized_features(
            response
                .finalized_features
                .iter()
                .map(|f| {
                    kp_resp::FinalizedFeatureKey::default()
                        .with_name(s(&f.name))
                        .with_max_version_level(f.max_version_level)
                        .with_min_version_level(f.min_version_level)
                })
                .collect(),
        )
        .with_zk_migration_ready(response.zk_migration_ready)
}

fn encode_ours(request: &ApiVersionsRequest, version: i16) -> Bytes {
    let mut w = Writer::new(API.is_flexible(version));
    request.encode(version, &mut w).unwrap();
    w.into_bytes()
}

fn decode_ours(bytes: &[u8], version: i16) -> ApiVersionsResponse {
    let mut r = Reader::new(bytes, API.is_flexible(version));
    let response = ApiVersionsResponse::decode(&mut r, version).unwrap();
    r.expect_end().unwrap();
    response
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn request_matches_kafka_protocol(request in request()) {
        for version in versions() {
            let mut bytes = encode_ours(&request, version);
            let theirs = KpRequest::decode(&mut bytes, version).unwrap();
            prop_assert!(bytes.is_empty(), "v{} left bytes", version);
            let (name, software_version) = if version >= 3 {
                (request.client_software_name.as_str(), request.client_software_version.as_str())
            } else {
                ("", "")
            };
            prop_assert_eq!(theirs.client_software_name.as_str(), name);
            prop_assert_eq!(theirs.client_software_version.as_str(), software_version);
        }
    }

    #[test]
    fn response_matches_kafka_protocol(response in response()) {
        for version in versions() {
            let expected = for_version(response.clone(), version);
            let mut buf = BytesMut::new();
            to_kp(&expected).encode(&mut buf, version).unwrap();
            prop_assert_eq!(&decode_ours(&buf, version), &expected, "v{}", version);
            // decode_any at the version itself gives the same answer.
            if expected.error_code.0 != 35 {
                prop_assert_eq!(&ApiVersionsResponse::decode_any(&buf, version).unwrap(), &expected);
            }
        }
    }

    #[test]
    fn v0_fallback_body_decodes_at_any_requested_version(response in response()) {
        let mut v0 = for_version(response, 0);
        v0.error_code = ErrorCode(35);
        let mut buf = BytesMut::new();
        to_kp(&v0).encode(&mut buf, 0).unwrap();
        for requested in versions() {
            prop_assert_eq!(&ApiVersionsResponse::decode_any(&buf, requested).unwrap(), &v0);
        }
    }
}
