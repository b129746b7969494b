//! FindCoordinator checked against the `kafka-protocol` crate, for every
//! supported version (single key below v4, batched from v4).

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::find_coordinator_response::Coordinator as KpCoordinator;
use kafka_protocol::messages::{
    FindCoordinatorRequest as KpFindCoordinatorRequest, FindCoordinatorResponse as KpFindCoordinatorResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafka_wire::messages::find_coordinator::*;
use kafka_wire::messages::{Request, Response};
use kafka_wire::{ApiKey, ErrorCode, Reader, VersionRange, Writer};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;

const API: ApiKey = ApiKey::FindCoordinator;
const NAME: &str = ".{0,12}";

fn versions() -> impl Iterator<Item = i16> {
    let VersionRange { min, max } = API.supported();
    min..=max
}

fn s(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_owned())
}

fn encode_ours(request: &FindCoordinatorRequest, version: i16) -> Bytes {
    let mut w = Writer::new(API.is_flexible(version));
    request.encode(version, &mut w).unwrap();
    w.into_bytes()
}

fn decode_ours(bytes: &[u8], version: i16) -> FindCoordinatorResponse {
    let mut r = Reader::new(bytes, API.is_flexible(version));
    let response = FindCoordinatorResponse::decode(&mut r, version).unwrap();
    r.expect_end().unwrap();
    response
}

fn key_type() -> impl Strategy<Value = CoordinatorType> {
    prop_oneof![
        Just(CoordinatorType::Group),
        Just(CoordinatorType::Transaction),
        Just(CoordinatorType::Share),
    ]
}

fn unknown_tags() -> impl Strategy<Value = BTreeMap<i32, Bytes>> {
    btree_map(0..100i32, vec(any::<u8>(), 0..6).prop_map(Bytes::from), 0..3)
}

fn coordinator() -> impl Strategy<Value = Coordinator> {
    (
        NAME,
        any::<i32>(),
        NAME,
        any::<i32>(),
        any::<i16>(),
        option::of(NAME),
    )
        .prop_map(|(key, node_id, host, port, code, error_message)| Coordinator {
            key: Some(key),
            node_id,
            host,
            port,
            error_code: ErrorCode(code),
            error_message,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn request_matches(key_type in key_type(), keys in vec(NAME, 1..5)) {
        for version in versions() {
            // What the version can carry (the refusals are unit-tested).
            let key_type = match key_type {
                CoordinatorType::Share if version < 6 => CoordinatorType::Transaction,
                other => other,
            };
            let keys = if version < 4 { keys[..1].to_vec() } else { keys.clone() };
            let request = FindCoordinatorRequest { key_type, keys };

            let mut bytes = encode_ours(&request, version);
            let theirs = KpFindCoordinatorRequest::decode(&mut bytes, version).unwrap();
            prop_assert!(bytes.is_empty());
            prop_assert_eq!(theirs.key_type, key_type.code());
            let their_keys: Vec<String> = if version < 4 {
                prop_assert!(theirs.coordinator_keys.is_empty());
                vec![theirs.key.to_string()]
            } else {
                theirs.coordinator_keys.iter().map(|k| k.to_string()).collect()
            };
            prop_assert_eq!(&their_keys, &request.keys, "v{}", version);
        }
    }

    #[test]
    fn response_matches(
        throttle_time_ms in any::<i32>(),
        coordinators in vec(coordinator(), 1..4),
        tags in unknown_tags(),
    ) {
        for version in versions() {
            let tags = if API.is_flexible(version) { tags.clone() } else { BTreeMap::new() };
            let (theirs, expected) = if version < 4 {
                let first = Coordinator { key: None, ..coordinators[0].clone() };
                let theirs = KpFindCoordinatorResponse::default()
                    .with_throttle_time_ms(throttle_time_ms)
                    .with_error_code(first.error_code.0)
                    .with_error_message(first.error_message.as_deref().map(s))
                    .with_node_id(first.node_id.into())
                    .with_host(s(&first.host))
                    .with_port(first.port)
                    .with_unknown_tagged_fields(tags);
                (theirs, vec![first])
            } else {
                let entries = coordinators
                    .iter()
                    .map(|c| {
                        KpCoordinator::default()
                            .with_key(s(c.key.as_deref().unwrap_or_default()))
                            .with_node_id(c.node_id.into())
                            .with_host(s(&c.host))
                            .with_port(c.port)
                            .with_error_code(c.error_code.0)
                            .with_error_message(c.error_message.as_deref().map(s))
                            .with_unknown_tagged_fields(tags.clone())
                    })
                    .collect();
                let theirs = KpFindCoordinatorResponse::default()
                    .with_throttle_time_ms(throttle_time_ms)
                    .with_coordinators(entries)
                    .with_unknown_tagged_fields(tags);
                (theirs, coordinators.clone())
            };
            let mut buf = BytesMut::new();
            theirs.encode(&mut buf, version).unwrap();
            let ours = decode_ours(&buf, version);
            prop_assert_eq!(ours.throttle_time_ms, throttle_time_ms);
            prop_assert_eq!(&ours.coordinators, &expected, "v{}", version);
        }
    }
}
