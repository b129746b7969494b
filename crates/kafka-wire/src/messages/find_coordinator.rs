//! FindCoordinator (key 10): locate the broker that coordinates a consumer
//! group or a transactional id.
//!
//! Versions v1..=v6, flexible from v3. v1..=v3 ask for one key and answer
//! with one coordinator; v4+ batch any number of keys (KIP-699) and name the
//! key in each answer; v5 and v6 only add error codes and the share-group key
//! type.
//!
//! The types here are version-independent: a request always holds a list of
//! keys (exactly one below v4), a response always a list of [`Coordinator`]s.

use crate::api::ApiKey;
use crate::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::messages::{Request, Response};
use crate::ErrorCode;

/// What kind of coordinator is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoordinatorType {
    /// A consumer group coordinator; the key is the group id.
    Group,
    /// A transaction coordinator; the key is the transactional id.
    Transaction,
    /// A share group coordinator (v6+).
    Share,
}

impl CoordinatorType {
    /// The `key_type` value on the wire.
    pub const fn code(self) -> i8 {
        match self {
            CoordinatorType::Group => 0,
            CoordinatorType::Transaction => 1,
            CoordinatorType::Share => 2,
        }
    }
}

/// Asks which broker coordinates each of `keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindCoordinatorRequest {
    /// The kind of coordinator.
    pub key_type: CoordinatorType,
    /// Group ids or transactional ids. Below v4 there must be exactly one.
    pub keys: Vec<String>,
}

impl FindCoordinatorRequest {
    /// A request for the coordinator of a single key (valid in every version).
    pub fn single(key_type: CoordinatorType, key: impl Into<String>) -> Self {
        FindCoordinatorRequest {
            key_type,
            keys: vec![key.into()],
        }
    }
}

impl Request for FindCoordinatorRequest {
    const API_KEY: ApiKey = ApiKey::FindCoordinator;
    type Response = FindCoordinatorResponse;

    fn encode(&self, version: i16, w: &mut Writer) -> Result<(), EncodeError> {
        let invalid = |detail| EncodeError::InvalidForVersion {
            api: Self::API_KEY,
            version,
            detail,
        };
        if !Self::API_KEY.supported().contains(version) {
            return Err(EncodeError::UnsupportedVersion {
                api: Self::API_KEY,
                version,
            });
        }
        if self.key_type == CoordinatorType::Share && version < 6 {
            return Err(invalid("share coordinators need v6+"));
        }
        if version < 4 {
            let [key] = self.keys.as_slice() else {
                return Err(invalid("exactly one key is needed below v4"));
            };
            w.string(key)?;
            w.i8(self.key_type.code());
        } else {
            w.i8(self.key_type.code());
            w.array(&self.keys, |w, key| w.string(key))?;
        }
        w.empty_tagged_fields();
        Ok(())
    }
}

/// The coordinator found for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coordinator {
    /// The key this answer is for. Responses below v4 do not name it (they
    /// answer the single key of the request), so it is `None` there.
    pub key: Option<String>,
    /// The coordinator's broker id (-1 on error).
    pub node_id: i32,
    /// The coordinator's host name.
    pub host: String,
    /// The coordinator's port.
    pub port: i32,
    /// The error for this key, or `ErrorCode(0)`.
    pub error_code: ErrorCode,
    /// A human-readable error message, if any.
    pub error_message: Option<String>,
}

/// The coordinators found, one per requested key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindCoordinatorResponse {
    /// How long the request was throttled by a quota, in milliseconds.
    pub throttle_time_ms: i32,
    /// One entry per key; below v4 exactly one entry, with `key: None`.
    pub coordinators: Vec<Coordinator>,
}

impl FindCoordinatorResponse {
    /// The answer for `key`: the entry naming it, or the single unnamed entry
    /// of a response below v4.
    pub fn coordinator(&self, key: &str) -> Option<&Coordinator> {
        self.coordinators
            .iter()
            .find(|c| c.key.is_none() || c.key.as_deref() == Some(key))
    }
}

impl Response for FindCoordinatorResponse {
    fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self, DecodeError> {
        let api = ApiKey::FindCoordinator;
        if !api.supported().contains(version) {
            return Err(DecodeError::UnsupportedVersion { api, version });
        }
        let throttle_time_ms = r.i32()?;
        let coordinators = if version < 4 {
            // The fields of one coordinator, in a different order.
            let error_code = ErrorCode(r.i16()?);
            let error_message = r.nullable_string("error_message")?;
            vec![Coordinator {
                key: None,
                node_id: r.i32()?,
                host: r.string("host")?,
                port: r.i32()?,
                error_code,
                error_message,
            }]
        } else {
            // key, node_id, host, port, error_code, error_message, tagged fields
            // (v4+ is always flexible: one-byte lengths at least).
            let min_size = 1 + 4 + 1 + 4 + 2 + 1 + 1;
            r.array("coordinators", min_size, |r| {
                let coordinator = Coordinator {
                    key: Some(r.string("key")?),
                    node_id: r.i32()?,
                    host: r.string("host")?,
                    port: r.i32()?,
                    error_code: ErrorCode(r.i16()?),
                    error_message: r.nullable_string("error_message")?,
                };
                r.skip_tagged_fields()?;
                Ok(coordinator)
            })?
        };
        r.skip_tagged_fields()?;
        Ok(FindCoordinatorResponse {
            throttle_time_ms,
            coordinators,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(request: &FindCoordinatorRequest, version: i16) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new(ApiKey::FindCoordinator.is_flexible(version));
        request.encode(version, &mut w)?;
        Ok(w.into_bytes().to_vec())
    }

    fn decode(bytes: &[u8], version: i16) -> Result<FindCoordinatorResponse, DecodeError> {
        let mut r = Reader::new(bytes, ApiKey::FindCoordinator.is_flexible(version));
        let response = FindCoordinatorResponse::decode(&mut r, version)?;
        r.expect_end()?;
        Ok(response)
    }

    #[test]
    fn encodes_v1_classic() {
        let request = FindCoordinatorRequest::single(CoordinatorType::Transaction, "tx");
        assert_eq!(encode(&request, 1).unwrap(), [0, 2, b't', b'x', 1]);
    }

    #[test]
    fn encodes_v3_flexible_single_key() {
        let request = FindCoordinatorRequest::single(CoordinatorType::Group, "g");
        assert_eq!(encode(&request, 3).unwrap(), [2, b'g', 0, 0]);
    }

    #[test]
    fn encodes_v4_batched() {
        let request = FindCoordinatorRequest {
            key_type: CoordinatorType::Transaction,
            keys: vec!["a".into(), "bc".into()],
        };
        #[rustfmt::skip]
        let expected = [
            1, // key_type
            3, 2, b'a', 3, b'b', b'c', // coordinator_keys (compact)
            0, // tagged fields
        ];
        assert_eq!(encode(&request, 4).unwrap(), expected);
    }

    #[test]
    fn key_count_and_type_checked_per_version() {
        let two = FindCoordinatorRequest {
            key_type: CoordinatorType::Group,
            keys: vec!["a".into(), "b".into()],
        };
        let none = FindCoordinatorRequest {
            key_type: CoordinatorType::Group,
            keys: vec![],
        };
        for version in 1..4 {
            for request in [&two, &none] {
                assert!(matches!(
                    encode(request, version),
                    Err(EncodeError::InvalidForVersion { .. })
                ));
            }
        }
        assert!(encode(&two, 4).is_ok());
        let share = FindCoordinatorRequest::single(CoordinatorType::Share, "s");
        assert!(matches!(
            encode(&share, 5),
            Err(EncodeError::InvalidForVersion { .. })
        ));
        assert!(encode(&share, 6).is_ok());
        assert!(matches!(
            encode(&share, 0),
            Err(EncodeError::UnsupportedVersion { .. })
        ));
    }

    #[rustfmt::skip]
    const V1_RESPONSE: &[u8] = &[
        0, 0, 0, 1, // throttle_time_ms
        0, 0, // error_code
        0xff, 0xff, // error_message (null)
        0, 0, 0, 3, // node_id
        0, 3, b'b', b'k', b'1', // host
        0, 0, 0x23, 0x84, // port 9092
    ];

    #[rustfmt::skip]
    const V4_RESPONSE: &[u8] = &[
        0, 0, 0, 0, // throttle_time_ms
        3, // two coordinators
        2, b'a', 0, 0, 0, 1, 2, b'h', 0, 0, 0, 9, 0, 0, 0, 0, // "a": 1, h:9, ok
        2, b'b', 0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 0, // "b": -1, "":0,
        0, 15, 2, b'x', 0, // ... error 15 "x"
        0, // tagged fields
    ];

    #[test]
    fn decodes_v1_classic() {
        let response = decode(V1_RESPONSE, 1).unwrap();
        assert_eq!(response.throttle_time_ms, 1);
        let expected = Coordinator {
            key: None,
            node_id: 3,
            host: "bk1".into(),
            port: 9092,
            error_code: ErrorCode(0),
            error_message: None,
        };
        assert_eq!(response.coordinator("anything"), Some(&expected));
        assert_eq!(response.coordinators, [expected]);
    }

    #[test]
    fn decodes_v4_batched() {
        let response = decode(V4_RESPONSE, 4).unwrap();
        assert_eq!(response.throttle_time_ms, 0);
        assert_eq!(
            response.coordinators,
            [
                Coordinator {
                    key: Some("a".into()),
                    node_id: 1,
                    host: "h".into(),
                    port: 9,
                    error_code: ErrorCode(0),
                    error_message: None,
                },
                Coordinator {
                    key: Some("b".into()),
                    node_id: -1,
                    host: String::new(),
                    port: 0,
                    error_code: ErrorCode(15),
                    error_message: Some("x".into()),
                },
            ]
        );
        assert_eq!(response.coordinator("b").map(|c| c.node_id), Some(-1));
        assert_eq!(response.coordinator("c"), None);
    }

    #[test]
    fn decodes_v3_flexible() {
        #[rustfmt::skip]
        let bytes = [
            0, 0, 0, 0, // throttle_time_ms
            0, 15, // error_code
            3, b'n', b'o', // error_message
            0xff, 0xff, 0xff, 0xff, // node_id
            1, // host ""
            0, 0, 0, 0, // port
            0, // tagged fields
        ];
        let response = decode(&bytes, 3).unwrap();
        assert_eq!(response.coordinators.len(), 1);
        assert_eq!(response.coordinators[0].error_code, ErrorCode(15));
        assert_eq!(response.coordinators[0].error_message.as_deref(), Some("no"));
        assert_eq!(response.coordinators[0].node_id, -1);
    }

    #[test]
    fn truncated_responses_fail() {
        for (bytes, version) in [(V1_RESPONSE, 1), (V4_RESPONSE, 4)] {
            for len in 0..bytes.len() {
                assert!(decode(&bytes[..len], version).is_err(), "v{version} prefix {len}");
            }
        }
    }

    #[test]
    fn hostile_coordinator_count_fails() {
        // 1_000_000 coordinators announced, 1 byte follows.
        let bytes = [0, 0, 0, 0, 0xc1, 0x84, 0x3d, 0];
        assert!(matches!(
            decode(&bytes, 4),
            Err(DecodeError::CountExceedsRemaining {
                what: "coordinators",
                ..
            })
        ));
    }
}
