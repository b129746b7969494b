//! `ApiVersions` (key 18), v0–v4; flexible from v3.
//!
//! The first request on every connection: the broker lists, per API, the
//! versions it accepts, and (v3+) the features it supports and has finalized
//! (e.g. `transaction.version`, which decides whether KIP-890 transactions
//! are used). The response header is always v0, even for flexible versions.
//!
//! # Version fallback
//!
//! A broker that does not support the requested `ApiVersions` version answers
//! with error `UNSUPPORTED_VERSION` (35) and a body in the **v0** format
//! listing (at least) its own `ApiVersions` range. For a flexible requested
//! version that body is not flexible either, so it must be read with a fresh
//! classic reader. [`ApiVersionsResponse::decode_any`] does this, and
//! [`ApiVersionsResponse::fallback_version`] gives the version to retry with.

use crate::api::{ApiKey, BrokerApiVersion, VersionRange};
use crate::codec::{DecodeError, EncodeError, Reader, Writer};
use crate::messages::{Request, Response};
use crate::ErrorCode;

/// `UNSUPPORTED_VERSION`: the broker does not speak the requested version.
const UNSUPPORTED_VERSION: i16 = 35;

/// Asks the broker which API versions and features it supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersionsRequest {
    /// Name of the client software (v3+). Brokers reject names that are empty
    /// or not of the form `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`.
    pub client_software_name: String,
    /// Version of the client software (v3+), same rules as the name.
    pub client_software_version: String,
}

impl Default for ApiVersionsRequest {
    /// Identifies this crate: `actix-kafka` and the package version.
    fn default() -> Self {
        ApiVersionsRequest {
            client_software_name: "actix-kafka".to_owned(),
            client_software_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

impl Request for ApiVersionsRequest {
    const API_KEY: ApiKey = ApiKey::ApiVersions;
    type Response = ApiVersionsResponse;

    fn encode(&self, version: i16, w: &mut Writer) -> Result<(), EncodeError> {
        if version >= 3 {
            w.string(&self.client_software_name)?;
            w.string(&self.client_software_version)?;
        }
        w.empty_tagged_fields();
        Ok(())
    }
}

/// The versions the broker supports for one API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiVersion {
    /// Numeric API key.
    pub api_key: i16,
    /// Lowest supported version.
    pub min_version: i16,
    /// Highest supported version.
    pub max_version: i16,
}

/// A feature the broker supports (v3+, tagged field 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportedFeature {
    /// Feature name, e.g. `transaction.version`.
    pub name: String,
    /// Lowest supported level.
    pub min_version: i16,
    /// Highest supported level.
    pub max_version: i16,
}

/// A feature level finalized for the cluster (v3+, tagged field 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalizedFeature {
    /// Feature name, e.g. `transaction.version`.
    pub name: String,
    /// The finalized (maximum) level: the one in force.
    pub max_version_level: i16,
    /// The minimum finalized level.
    pub min_version_level: i16,
}

/// The broker's answer to [`ApiVersionsRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersionsResponse {
    /// Top-level error (35 means "retry with [`Self::fallback_version`]").
    pub error_code: ErrorCode,
    /// The APIs the broker supports, with their version ranges.
    pub api_keys: Vec<ApiVersion>,
    /// Throttle time in ms (v1+; 0 before).
    pub throttle_time_ms: i32,
    /// Features the broker supports (v3+, tag 0; empty if absent).
    pub supported_features: Vec<SupportedFeature>,
    /// Epoch of the finalized features (v3+, tag 1; -1 if absent).
    pub finalized_features_epoch: i64,
    /// Features finalized for the cluster (v3+, tag 2; empty if absent).
    pub finalized_features: Vec<FinalizedFeature>,
    /// Whether the controller is ready for a ZooKeeper migration (v3+, tag 3).
    pub zk_migration_ready: bool,
}

impl ApiVersionsResponse {
    /// The broker's ranges in the form [`crate::api::NegotiatedVersions`] takes.
    pub fn broker_versions(&self) -> Vec<BrokerApiVersion> {
        self.api_keys
            .iter()
            .map(|k| BrokerApiVersion {
                api_key: k.api_key,
                min_version: k.min_version,
                max_version: k.max_version,
            })
            .collect()
    }

    /// The finalized (maximum) level of feature `name`, if the broker reports it.
    pub fn finalized_feature(&self, name: &str) -> Option<i16> {
        self.finalized_features
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.max_version_level)
    }

    /// The highest `ApiVersions` version both the broker and we support, to
    /// retry with after `UNSUPPORTED_VERSION`. A broker that does not list
    /// `ApiVersions` at all (older than Kafka 2.4) is taken to speak v0.
    /// `None` if the ranges do not overlap.
    pub fn fallback_version(&self) -> Option<i16> {
        let ours = ApiKey::ApiVersions.supported();
        match self
            .api_keys
            .iter()
            .find(|k| k.api_key == ApiKey::ApiVersions.code())
        {
            Some(k) => ours
                .intersect(VersionRange::new(k.min_version, k.max_version))
                .map(|common| common.max),
            None => Some(ours.min),
        }
    }

    /// Decodes a response body (header already read) to a request of
    /// `requested_version`, handling the broker's v0 fallback: if decoding at
    /// `requested_version` fails or yields `UNSUPPORTED_VERSION`, the body is
    /// decoded again as a (non-flexible) v0 body. If that fails too, the first
    /// result is returned.
    pub fn decode_any(body: &[u8], requested_version: i16) -> Result<Self, DecodeError> {
        let api = ApiKey::ApiVersions;
        if !api.supported().contains(requested_version) {
            return Err(DecodeError::UnsupportedVersion {
                api,
                version: requested_version,
            });
        }
        let first = Self::decode(
            &mut Reader::new(body, api.is_flexible(requested_version)),
            requested_version,
        );
        match &first {
            Ok(response) if response.error_code.0 != UNSUPPORTED_VERSION => first,
            _ if requested_version == 0 => first,
            _ => Self::decode(&mut Reader::new(body, false), 0).or(first),
        }
    }
}

impl Response for ApiVersionsResponse {
    fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self, DecodeError> {
        let tags = usize::from(r.is_flexible());
        let error_code = ErrorCode(r.i16()?);
        let api_keys = r.array("api_keys", 6 + tags, |r| {
            let key = ApiVersion {
                api_key: r.i16()?,
                min_version: r.i16()?,
                max_version: r.i16()?,
            };
            r.skip_tagged_fields()?;
            Ok(key)
        })?;
        let throttle_time_ms = if version >= 1 { r.i32()? } else { 0 };

        let mut response = ApiVersionsResponse {
            error_code,
            api_keys,
            throttle_time_ms,
            supported_features: Vec::new(),
            finalized_features_epoch: -1,
            finalized_features: Vec::new(),
            zk_migration_ready: false,
        };
        // Tagged fields are flexible structures themselves: compact strings,
        // and each element ends with its own tagged fields.
        r.tagged_fields(|tag, f| {
            match tag {
                0 => {
                    response.supported_features = f.array("supported_features", 1 + 4 + 1, |f| {
                        let feature = SupportedFeature {
                            name: f.string("supported feature name")?,
                            min_version: f.i16()?,
                            max_version: f.i16()?,
                        };
                        f.skip_tagged_fields()?;
                        Ok(feature)
                    })?;
                }
                1 => response.finalized_features_epoch = f.i64()?,
                2 => {
                    response.finalized_features = f.array("finalized_features", 1 + 4 + 1, |f| {
                        let feature = FinalizedFeature {
                            name: f.string("finalized feature name")?,
                            max_version_level: f.i16()?,
                            min_version_level: f.i16()?,
                        };
                        f.skip_tagged_fields()?;
                        Ok(feature)
                    })?;
                }
                3 => response.zk_migration_ready = f.bool()?,
                _ => {}
            }
            Ok(())
        })?;
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(request: &ApiVersionsRequest, version: i16) -> Vec<u8> {
        let mut w = Writer::new(ApiKey::ApiVersions.is_flexible(version));
        request.encode(version, &mut w).unwrap();
        w.into_bytes().to_vec()
    }

    fn decode(bytes: &[u8], version: i16) -> Result<ApiVersionsResponse, DecodeError> {
        let mut r = Reader::new(bytes, ApiKey::ApiVersions.is_flexible(version));
        let response = ApiVersionsResponse::decode(&mut r, version)?;
        r.expect_end()?;
        Ok(response)
    }

    fn request() -> ApiVersionsRequest {
        ApiVersionsRequest {
            client_software_name: "ak".to_owned(),
            client_software_version: "1.0".to_owned(),
        }
    }

    #[test]
    fn classic_requests_are_empty() {
        for version in 0..=2 {
            assert!(encode(&request(), version).is_empty());
        }
    }

    #[test]
    fn flexible_request_bytes() {
        let expected = [3, b'a', b'k', 4, b'1', b'.', b'0', 0];
        assert_eq!(encode(&request(), 3), expected);
        assert_eq!(encode(&request(), 4), expected);
    }

    /// v0: error 0, one key (Produce 3..=12).
    const V0: [u8; 12] = [0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 12];

    /// v3: error 0, one key (ApiVersions 0..=4), throttle 7, then tags:
    /// 0 supported [tv 0..=2], 1 epoch 9, 2 finalized [tv max 2 min 0], 3 true.
    fn v3_body() -> Vec<u8> {
        let mut b = vec![0, 0, 2, 0, 18, 0, 0, 0, 4, 0, 0, 0, 0, 7, 4];
        let feature = |first: i16, second: i16| {
            let mut f = vec![1 + 19];
            f.extend_from_slice(b"transaction.version");
            f.extend_from_slice(&first.to_be_bytes());
            f.extend_from_slice(&second.to_be_bytes());
            f.push(0);
            f
        };
        let supported = [vec![2], feature(0, 2)].concat();
        b.extend([0, supported.len() as u8]);
        b.extend(&supported);
        b.extend([1, 8, 0, 0, 0, 0, 0, 0, 0, 9]);
        let finalized = [vec![2], feature(2, 0)].concat();
        b.extend([2, finalized.len() as u8]);
        b.extend(&finalized);
        b.extend([3, 1, 1]);
        b
    }

    #[test]
    fn decodes_v0() {
        let response = decode(&V0, 0).unwrap();
        assert_eq!(response.error_code, ErrorCode(0));
        assert_eq!(
            response.broker_versions(),
            vec![BrokerApiVersion {
                api_key: 0,
                min_version: 3,
                max_version: 12
            }]
        );
        assert_eq!(response.throttle_time_ms, 0);
        assert_eq!(response.finalized_features_epoch, -1);
    }

    #[test]
    fn decodes_v3_with_features() {
        let response = decode(&v3_body(), 3).unwrap();
        assert_eq!(
            response.api_keys,
            vec![ApiVersion {
                api_key: 18,
                min_version: 0,
                max_version: 4
            }]
        );
        assert_eq!(response.throttle_time_ms, 7);
        assert_eq!(
            response.supported_features,
            vec![SupportedFeature {
                name: "transaction.version".into(),
                min_version: 0,
                max_version: 2
            }]
        );
        assert_eq!(response.finalized_features_epoch, 9);
        assert_eq!(response.finalized_feature("transaction.version"), Some(2));
        assert_eq!(response.finalized_feature("metadata.version"), None);
        assert!(response.zk_migration_ready);
        assert_eq!(response.fallback_version(), Some(4));
    }

    #[test]
    fn unknown_tags_are_skipped() {
        let body = [0, 0, 1, 0, 0, 0, 1, 1, 9, 2, 0xab, 0xcd];
        let response = decode(&body, 4).unwrap();
        assert!(response.api_keys.is_empty());
        assert_eq!(response.throttle_time_ms, 1);
    }

    #[test]
    fn unsupported_version_falls_back_to_a_v0_body() {
        // Error 35, ApiVersions 0..=2, in the v0 format.
        let body = [0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 2];
        for requested in 1..=4 {
            let response = ApiVersionsResponse::decode_any(&body, requested).unwrap();
            assert_eq!(response.error_code, ErrorCode(35));
            assert_eq!(
                response.api_keys,
                vec![ApiVersion {
                    api_key: 18,
                    min_version: 0,
                    max_version: 2
                }]
            );
            assert_eq!(response.fallback_version(), Some(2));
        }
        // A normal answer decodes at the requested version.
        let response = ApiVersionsResponse::decode_any(&v3_body(), 3).unwrap();
        assert_eq!(response.finalized_feature("transaction.version"), Some(2));
        // Garbage fails either way, with the error of the requested version.
        assert!(ApiVersionsResponse::decode_any(&[0, 35, 0], 3).is_err());
        assert!(matches!(
            ApiVersionsResponse::decode_any(&body, 5),
            Err(DecodeError::UnsupportedVersion { .. })
        ));
    }

    #[test]
    fn fallback_version_without_an_entry_is_v0() {
        let body = [0, 35, 0, 0, 0, 0];
        let response = ApiVersionsResponse::decode_any(&body, 4).unwrap();
        assert_eq!(response.fallback_version(), Some(0));
        let disjoint = [0, 35, 0, 0, 0, 1, 0, 18, 0, 7, 0, 9];
        let response = ApiVersionsResponse::decode_any(&disjoint, 4).unwrap();
        assert_eq!(response.fallback_version(), None);
    }

    #[test]
    fn truncated_input_fails() {
        for (body, version) in [(V0.to_vec(), 0), (v3_body(), 3)] {
            for len in 0..body.len() {
                assert!(decode(&body[..len], version).is_err(), "v{version} prefix {len}");
            }
        }
    }

    #[test]
    fn hostile_counts_fail_before_allocating() {
        let classic = [0, 0, 0x7f, 0xff, 0xff, 0xff];
        assert!(matches!(
            decode(&classic, 0),
            Err(DecodeError::CountExceedsRemaining { .. })
        ));
        let flexible = [0, 0, 0xff, 0xff, 0xff, 0xff, 0x07];
        assert!(matches!(
            decode(&flexible, 3),
            Err(DecodeError::CountExceedsRemaining { .. })
        ));
        // A supported_features tag claiming many elements.
        let tagged = [0, 0, 1, 0, 0, 0, 0, 1, 0, 2, 0x7f, 0];
        assert!(matches!(
            decode(&tagged, 3),
            Err(DecodeError::CountExceedsRemaining { .. })
        ));
    }
}
