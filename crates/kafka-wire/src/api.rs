//! API keys, the versions this crate speaks, and version negotiation.
//!
//! A connection starts with `ApiVersions`; the broker lists, per API, the
//! versions it accepts. [`NegotiatedVersions`] keeps the highest version both
//! sides support, which is what every later request on that connection uses.

use std::fmt;

/// An inclusive range of API versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionRange {
    /// Lowest version.
    pub min: i16,
    /// Highest version.
    pub max: i16,
}

impl VersionRange {
    /// The range `min..=max`.
    pub const fn new(min: i16, max: i16) -> Self {
        VersionRange { min, max }
    }

    /// Whether `version` lies in the range.
    pub fn contains(self, version: i16) -> bool {
        self.min <= version && version <= self.max
    }

    /// The versions in both ranges, if any.
    pub fn intersect(self, other: VersionRange) -> Option<VersionRange> {
        let min = self.min.max(other.min);
        let max = self.max.min(other.max);
        (min <= max).then_some(VersionRange { min, max })
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}..=v{}", self.min, self.max)
    }
}

/// The APIs a producer uses, with their numeric keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ApiKey {
    /// Append record batches to partitions.
    Produce,
    /// Cluster, broker and topic metadata.
    Metadata,
    /// Locate a transaction or group coordinator.
    FindCoordinator,
    /// Choose a SASL mechanism.
    SaslHandshake,
    /// The versions a broker supports, and its features.
    ApiVersions,
    /// Obtain (or bump) a producer id and epoch.
    InitProducerId,
    /// Register partitions in a transaction (transaction.version 1).
    AddPartitionsToTxn,
    /// Register a consumer group's offsets in a transaction.
    AddOffsetsToTxn,
    /// Commit or abort a transaction.
    EndTxn,
    /// Commit consumer offsets as part of a transaction.
    TxnOffsetCommit,
    /// Carry SASL authentication bytes.
    SaslAuthenticate,
}

impl ApiKey {
    /// Every API this crate implements.
    pub const ALL: [ApiKey; 11] = [
        ApiKey::Produce,
        ApiKey::Metadata,
        ApiKey::FindCoordinator,
        ApiKey::SaslHandshake,
        ApiKey::ApiVersions,
        ApiKey::InitProducerId,
        ApiKey::AddPartitionsToTxn,
        ApiKey::AddOffsetsToTxn,
        ApiKey::EndTxn,
        ApiKey::TxnOffsetCommit,
        ApiKey::SaslAuthenticate,
    ];

    /// The numeric key on the wire.
    pub const fn code(self) -> i16 {
        match self {
            ApiKey::Produce => 0,
            ApiKey::Metadata => 3,
            ApiKey::FindCoordinator => 10,
            ApiKey::SaslHandshake => 17,
            ApiKey::ApiVersions => 18,
            ApiKey::InitProducerId => 22,
            ApiKey::AddPartitionsToTxn => 24,
            ApiKey::AddOffsetsToTxn => 25,
            ApiKey::EndTxn => 26,
            ApiKey::TxnOffsetCommit => 28,
            ApiKey::SaslAuthenticate => 36,
        }
    }

    /// The API with numeric key `code`, if this crate implements it.
    pub fn from_code(code: i16) -> Option<ApiKey> {
        ApiKey::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The versions this crate can encode and decode. The reasons for each
    /// bound are in `docs/architecture.md` ("Protocol versions").
    pub const fn supported(self) -> VersionRange {
        match self {
            // v3 is the oldest Kafka 4.x accepts and the first with record batch v2;
            // v13 switches topics to ids (KIP-516), which we do not need.
            ApiKey::Produce => VersionRange::new(3, 12),
            // v4 adds allow_auto_topic_creation; v12 is the newest.
            ApiKey::Metadata => VersionRange::new(4, 12),
            // v1 adds key_type (transaction coordinators); v4+ batches keys;
            // v6 only adds share-group keys.
            ApiKey::FindCoordinator => VersionRange::new(1, 6),
            ApiKey::SaslHandshake => VersionRange::new(0, 1),
            ApiKey::ApiVersions => VersionRange::new(0, 4),
            // v3 adds producer id/epoch for epoch bumps (KIP-360); v5 is KIP-890.
            ApiKey::InitProducerId => VersionRange::new(0, 5),
            // v4+ is the broker-to-broker batched form; clients stop at v3.
            ApiKey::AddPartitionsToTxn => VersionRange::new(0, 3),
            ApiKey::AddOffsetsToTxn => VersionRange::new(0, 4),
            // v5 returns the bumped producer id and epoch (KIP-890).
            ApiKey::EndTxn => VersionRange::new(0, 5),
            ApiKey::TxnOffsetCommit => VersionRange::new(0, 5),
            ApiKey::SaslAuthenticate => VersionRange::new(0, 2),
        }
    }

    /// The first flexible (KIP-482) version, if the API has one in our range.
    pub const fn first_flexible_version(self) -> Option<i16> {
        match self {
            ApiKey::Produce => Some(9),
            ApiKey::Metadata => Some(9),
            ApiKey::FindCoordinator => Some(3),
            ApiKey::SaslHandshake => None,
            ApiKey::ApiVersions => Some(3),
            ApiKey::InitProducerId => Some(2),
            ApiKey::AddPartitionsToTxn => Some(3),
            ApiKey::AddOffsetsToTxn => Some(3),
            ApiKey::EndTxn => Some(3),
            ApiKey::TxnOffsetCommit => Some(3),
            ApiKey::SaslAuthenticate => Some(2),
        }
    }

    /// Whether `version` of this API uses compact forms and tagged fields.
    pub fn is_flexible(self, version: i16) -> bool {
        matches!(self.first_flexible_version(), Some(v) if version >= v)
    }

    /// The request header version: 2 for flexible requests, else 1.
    pub fn request_header_version(self, version: i16) -> i16 {
        if self.is_flexible(version) {
            2
        } else {
            1
        }
    }

    /// The response header version: 1 for flexible responses, else 0.
    /// ApiVersions always answers with header v0, so that a client that does
    /// not know the broker yet can still read the answer.
    pub fn response_header_version(self, version: i16) -> i16 {
        if self.is_flexible(version) && self != ApiKey::ApiVersions {
            1
        } else {
            0
        }
    }
}

/// The versions a broker advertises for one API (from `ApiVersions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokerApiVersion {
    /// Numeric API key (the broker may list keys this crate does not know).
    pub api_key: i16,
    /// Lowest version the broker accepts.
    pub min_version: i16,
    /// Highest version the broker accepts.
    pub max_version: i16,
}

/// The version chosen per API for one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NegotiatedVersions {
    chosen: Vec<(ApiKey, i16)>,
}

impl NegotiatedVersions {
    /// Chooses, for each API we implement, the highest version both we and
    /// the broker support. APIs with no common version are left out.
    pub fn negotiate(broker: &[BrokerApiVersion]) -> Self {
        let chosen = ApiKey::ALL
            .into_iter()
            .filter_map(|api| {
                let theirs = broker.iter().find(|b| b.api_key == api.code())?;
                let common = api
                    .supported()
                    .intersect(VersionRange::new(theirs.min_version, theirs.max_version))?;
                Some((api, common.max))
            })
            .collect();
        NegotiatedVersions { chosen }
    }

    /// Lowers the chosen version of each API in `caps` to at most its cap (a
    /// client that must not use a newer version's semantics, e.g. a
    /// transactional producer speaking transaction.version 1).
    pub fn capped(mut self, caps: &[(ApiKey, i16)]) -> Self {
        for (api, version) in &mut self.chosen {
            if let Some((_, cap)) = caps.iter().find(|(capped, _)| capped == api) {
                *version = (*version).min(*cap);
            }
        }
        self
    }

    /// The version to use for `api`, or `None` if the broker and we share none.
    pub fn version(&self, api: ApiKey) -> Option<i16> {
        self.chosen.iter().find(|(k, _)| *k == api).map(|(_, v)| *v)
    }

    /// Every chosen (API, version) pair.
    pub fn iter(&self) -> impl Iterator<Item = (ApiKey, i16)> + '_ {
        self.chosen.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        for api in ApiKey::ALL {
            assert_eq!(ApiKey::from_code(api.code()), Some(api));
        }
        assert_eq!(ApiKey::from_code(1), None);
    }

    #[test]
    fn negotiation_takes_the_highest_common_version() {
        let broker = [
            BrokerApiVersion {
                api_key: 0,
                min_version: 3,
                max_version: 13,
            },
            BrokerApiVersion {
                api_key: 3,
                min_version: 0,
                max_version: 8,
            },
            BrokerApiVersion {
                api_key: 36,
                min_version: 5,
                max_version: 9,
            },
        ];
        let v = NegotiatedVersions::negotiate(&broker);
        assert_eq!(v.version(ApiKey::Produce), Some(12));
        assert_eq!(v.version(ApiKey::Metadata), Some(8));
        assert_eq!(v.version(ApiKey::SaslAuthenticate), None, "no common version");
        assert_eq!(v.version(ApiKey::EndTxn), None, "not advertised");
        let capped = v.capped(&[(ApiKey::Produce, 11), (ApiKey::Metadata, 9)]);
        assert_eq!(capped.version(ApiKey::Produce), Some(11));
        assert_eq!(capped.version(ApiKey::Metadata), Some(8), "caps only lower");
    }

    #[test]
    fn header_versions_follow_flexibility() {
        assert_eq!(ApiKey::Produce.request_header_version(8), 1);
        assert_eq!(ApiKey::Produce.request_header_version(9), 2);
        assert_eq!(ApiKey::Produce.response_header_version(9), 1);
        assert_eq!(ApiKey::ApiVersions.request_header_version(3), 2);
        assert_eq!(ApiKey::ApiVersions.response_header_version(3), 0);
        assert_eq!(ApiKey::SaslHandshake.request_header_version(1), 1);
    }
}
