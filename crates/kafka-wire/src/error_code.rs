//! Kafka protocol error codes: every code from `-1` to the newest Kafka 4.x code,
//! with its name, a short description and the two flags a client acts on.
//!
//! * **Retriable** follows the Java client: the code's exception class extends
//!   `RetriableException`. The producer may resend the batch.
//! * **Invalid metadata** likewise: the class extends `InvalidMetadataException`
//!   (itself retriable). The producer should refresh metadata before the retry.
//!
//! Everything is read from one private table, one row per code. Codes are dense
//! from `-1`, so a lookup is an index (`code + 1`), not a search. A code missing
//! from the table (newer than this crate, or garbage) is *unknown*: its name is
//! `"UNKNOWN_CODE"` and it is neither retriable nor invalid metadata, which is
//! how the Java client treats it too (it becomes an `UnknownServerException`).
//!
//! Note that the Java producer's decision is not the flag alone: with idempotence
//! or transactions it also handles `OUT_OF_ORDER_SEQUENCE_NUMBER` and
//! `UNKNOWN_PRODUCER_ID` itself, treats `DUPLICATE_SEQUENCE_NUMBER` as success,
//! and splits a multi-record batch that got `MESSAGE_TOO_LARGE`. Those rules
//! belong to the producer; this table only says what the code's class says.

use std::fmt;

/// A Kafka protocol error code (the `i16` on the wire).
///
/// Any `i16` is a valid value; codes this crate does not know are reported by
/// [`ErrorCode::is_known`] and named `"UNKNOWN_CODE"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub i16);

/// One row of the table: everything known about one code.
#[derive(Debug)]
struct Row {
    code: i16,
    name: &'static str,
    retriable: bool,
    invalid_metadata: bool,
    description: &'static str,
}

/// Defines one `ErrorCode` constant per row and the `TABLE` they index.
///
/// Each row is `(code, NAME, R M, "description")`, where the flag columns are
/// `R` (retriable) or `-`, then `M` (invalid metadata) or `-`. The description
/// is also the constant's doc.
macro_rules! error_codes {
    ($( ($code:literal, $name:ident, $r:tt $m:tt, $description:literal) ),* $(,)?) => {
        impl ErrorCode {
            $(
                #[doc = concat!(
                    $description,
                    "\n\nCode `", stringify!($code), "`",
                    error_codes!(@r_doc $r),
                    error_codes!(@m_doc $m),
                    "."
                )]
                pub const $name: ErrorCode = ErrorCode($code);
            )*
        }

        /// Every known code, in code order from `-1`: row `i` holds code `i - 1`.
        static TABLE: &[Row] = &[
            $(
                Row {
                    code: $code,
                    name: stringify!($name),
                    retriable: error_codes!(@r $r),
                    invalid_metadata: error_codes!(@m $m),
                    description: $description,
                },
            )*
        ];
    };
    (@r R) => { true };
    (@r -) => { false };
    (@m M) => { true };
    (@m -) => { false };
    (@r_doc R) => { ", retriable" };
    (@r_doc -) => { "" };
    (@m_doc M) => { ", invalid metadata (refresh metadata before retrying)" };
    (@m_doc -) => { "" };
}

// Flags as in Kafka 4.1's `Errors.java` and the exception classes it builds.
// The Java exception class is noted where it explains a flag.
error_codes! {
    (-1, UNKNOWN_SERVER_ERROR, - -, "The broker hit an unexpected error while handling the request."),
    (0, NONE, - -, "No error."),
    (1, OFFSET_OUT_OF_RANGE, - -, "The requested offset is outside the range the broker holds for the partition."),
    // CorruptRecordException: retriable, the batch may have been damaged in transit.
    (2, CORRUPT_MESSAGE, R -, "A record failed its CRC check, has an invalid size, or is otherwise corrupt (for example a null key on a compacted topic)."),
    (3, UNKNOWN_TOPIC_OR_PARTITION, R M, "This broker does not host the topic-partition, or the topic does not exist."),
    (4, INVALID_FETCH_SIZE, - -, "The requested fetch size is invalid."),
    (5, LEADER_NOT_AVAILABLE, R M, "The partition has no leader at the moment, usually because an election is in progress."),
    // NotLeaderOrFollowerException (was NOT_LEADER_FOR_PARTITION before Kafka 2.6).
    (6, NOT_LEADER_OR_FOLLOWER, R M, "This broker is not the leader of the partition (or, for requests to any replica, not a replica of it)."),
    // TimeoutException.
    (7, REQUEST_TIMED_OUT, R -, "The request timed out on the broker."),
    (8, BROKER_NOT_AVAILABLE, - -, "The broker is not available."),
    (9, REPLICA_NOT_AVAILABLE, R M, "The replica is not available for the requested partition."),
    // RecordTooLargeException. The Java producer splits a multi-record batch instead of failing it.
    (10, MESSAGE_TOO_LARGE, - -, "A record batch is larger than the broker or topic accepts."),
    (11, STALE_CONTROLLER_EPOCH, - -, "The controller moved to another broker."),
    (12, OFFSET_METADATA_TOO_LARGE, - -, "The metadata attached to an offset commit is too large."),
    // NetworkException extends InvalidMetadataException: the node may be gone.
    (13, NETWORK_EXCEPTION, R M, "The connection was lost before a response arrived."),
    (14, COORDINATOR_LOAD_IN_PROGRESS, R -, "The coordinator is still loading its state and cannot serve requests yet."),
    (15, COORDINATOR_NOT_AVAILABLE, R -, "The coordinator is not available."),
    (16, NOT_COORDINATOR, R -, "This broker is not the coordinator for the group or transactional id."),
    (17, INVALID_TOPIC_EXCEPTION, - -, "The topic name is invalid, or the operation is not allowed on this topic."),
    // RecordBatchTooLargeException.
    (18, RECORD_LIST_TOO_LARGE, - -, "A record batch is larger than the broker's configured segment size."),
    (19, NOT_ENOUGH_REPLICAS, R -, "The write was rejected because fewer replicas are in sync than min.insync.replicas requires."),
    (20, NOT_ENOUGH_REPLICAS_AFTER_APPEND, R -, "The records were written, but to fewer in-sync replicas than required."),
    (21, INVALID_REQUIRED_ACKS, - -, "The produce request used an invalid acks value."),
    (22, ILLEGAL_GENERATION, - -, "The group generation id is not valid."),
    (23, INCONSISTENT_GROUP_PROTOCOL, - -, "The member's protocols are empty or incompatible with those of the group."),
    (24, INVALID_GROUP_ID, - -, "The group id is invalid."),
    (25, UNKNOWN_MEMBER_ID, - -, "The coordinator does not know this member."),
    (26, INVALID_SESSION_TIMEOUT, - -, "The session timeout is outside the range the broker allows."),
    (27, REBALANCE_IN_PROGRESS, - -, "The group is rebalancing; the member must rejoin."),
    (28, INVALID_COMMIT_OFFSET_SIZE, - -, "The committed offset data has an invalid size."),
    (29, TOPIC_AUTHORIZATION_FAILED, - -, "Not authorized to access the topic."),
    (30, GROUP_AUTHORIZATION_FAILED, - -, "Not authorized to access the group."),
    (31, CLUSTER_AUTHORIZATION_FAILED, - -, "Not authorized for this cluster operation."),
    (32, INVALID_TIMESTAMP, - -, "A record timestamp is outside the accepted range."),
    (33, UNSUPPORTED_SASL_MECHANISM, - -, "The broker does not support the requested SASL mechanism."),
    (34, ILLEGAL_SASL_STATE, - -, "The request is not valid in the current SASL state."),
    (35, UNSUPPORTED_VERSION, - -, "The broker does not support this API version."),
    (36, TOPIC_ALREADY_EXISTS, - -, "A topic with this name already exists."),
    (37, INVALID_PARTITIONS, - -, "The number of partitions is invalid."),
    (38, INVALID_REPLICATION_FACTOR, - -, "The replication factor is invalid or larger than the number of brokers."),
    (39, INVALID_REPLICA_ASSIGNMENT, - -, "The replica assignment is invalid."),
    (40, INVALID_CONFIG, - -, "The configuration is invalid."),
    // NotControllerException: retriable, but not an InvalidMetadataException.
    (41, NOT_CONTROLLER, R -, "This broker is not the active controller."),
    (42, INVALID_REQUEST, - -, "The request is malformed or not valid for this broker; the broker log has details."),
    (43, UNSUPPORTED_FOR_MESSAGE_FORMAT, - -, "The broker's message format version does not support the request."),
    (44, POLICY_VIOLATION, - -, "The request violates a configured policy."),
    // OutOfOrderSequenceException: not retriable by class; the idempotent producer
    // decides itself (TransactionManager) whether to retry or reset.
    (45, OUT_OF_ORDER_SEQUENCE_NUMBER, - -, "The broker received a producer sequence number out of order."),
    // The Java producer treats this as success: the batch was already written.
    (46, DUPLICATE_SEQUENCE_NUMBER, - -, "The broker received a duplicate producer sequence number."),
    (47, INVALID_PRODUCER_EPOCH, - -, "The producer's epoch is older than the current one."),
    (48, INVALID_TXN_STATE, - -, "The transactional operation is not valid in the transaction's current state."),
    (49, INVALID_PRODUCER_ID_MAPPING, - -, "The producer id is not the one assigned to this transactional id."),
    (50, INVALID_TRANSACTION_TIMEOUT, - -, "The transaction timeout exceeds the broker's transaction.max.timeout.ms."),
    (51, CONCURRENT_TRANSACTIONS, R -, "Another operation on the same transaction is still in progress."),
    (52, TRANSACTION_COORDINATOR_FENCED, - -, "The transaction coordinator that sent the marker is no longer the current one."),
    (53, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, - -, "Not authorized to use the transactional id."),
    (54, SECURITY_DISABLED, - -, "Security features are disabled on the broker."),
    (55, OPERATION_NOT_ATTEMPTED, - -, "The broker did not attempt this operation because another part of the batch failed."),
    // KafkaStorageException extends InvalidMetadataException: the replica may move.
    (56, KAFKA_STORAGE_ERROR, R M, "The broker hit a disk error while accessing the log."),
    (57, LOG_DIR_NOT_FOUND, - -, "The log directory is not in the broker's configuration."),
    (58, SASL_AUTHENTICATION_FAILED, - -, "SASL authentication failed."),
    // UnknownProducerIdException extends OutOfOrderSequenceException; see code 45.
    (59, UNKNOWN_PRODUCER_ID, - -, "The broker has no state for this producer id, for example because its records expired."),
    (60, REASSIGNMENT_IN_PROGRESS, - -, "A partition reassignment is in progress."),
    (61, DELEGATION_TOKEN_AUTH_DISABLED, - -, "Delegation tokens are not enabled."),
    (62, DELEGATION_TOKEN_NOT_FOUND, - -, "The delegation token was not found."),
    (63, DELEGATION_TOKEN_OWNER_MISMATCH, - -, "The principal is not the owner or a renewer of the delegation token."),
    (64, DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, - -, "Delegation token requests are not allowed on this kind of connection."),
    (65, DELEGATION_TOKEN_AUTHORIZATION_FAILED, - -, "Not authorized for the delegation token operation."),
    (66, DELEGATION_TOKEN_EXPIRED, - -, "The delegation token has expired."),
    (67, INVALID_PRINCIPAL_TYPE, - -, "The principal type is not supported."),
    (68, NON_EMPTY_GROUP, - -, "The group is not empty."),
    (69, GROUP_ID_NOT_FOUND, - -, "The group id does not exist."),
    (70, FETCH_SESSION_ID_NOT_FOUND, R -, "The fetch session id was not found."),
    (71, INVALID_FETCH_SESSION_EPOCH, R -, "The fetch session epoch is invalid."),
    (72, LISTENER_NOT_FOUND, R M, "The leader has no listener matching the one the metadata request arrived on."),
    (73, TOPIC_DELETION_DISABLED, - -, "Topic deletion is disabled."),
    (74, FENCED_LEADER_EPOCH, R M, "The leader epoch in the request is older than the broker's."),
    // UnknownLeaderEpochException extends RetriableException directly, not
    // InvalidMetadataException: the broker is behind, no metadata refresh is needed.
    (75, UNKNOWN_LEADER_EPOCH, R -, "The leader epoch in the request is newer than the broker's."),
    (76, UNSUPPORTED_COMPRESSION_TYPE, - -, "The client does not support the partition's compression type."),
    (77, STALE_BROKER_EPOCH, - -, "The broker epoch has changed."),
    (78, OFFSET_NOT_AVAILABLE, R -, "The new leader's high watermark has not caught up yet, so the offset is not available."),
    (79, MEMBER_ID_REQUIRED, - -, "The member needs a member id before it can join the group."),
    (80, PREFERRED_LEADER_NOT_AVAILABLE, R M, "The preferred leader is not available."),
    (81, GROUP_MAX_SIZE_REACHED, - -, "The group has reached its maximum size."),
    (82, FENCED_INSTANCE_ID, - -, "Another member with the same group.instance.id has registered."),
    (83, ELIGIBLE_LEADERS_NOT_AVAILABLE, R M, "No eligible leader is available for the partition."),
    (84, ELECTION_NOT_NEEDED, R M, "A leader election is not needed for the partition."),
    (85, NO_REASSIGNMENT_IN_PROGRESS, - -, "No partition reassignment is in progress."),
    (86, GROUP_SUBSCRIBED_TO_TOPIC, - -, "Offsets of a topic cannot be deleted while the group is subscribed to it."),
    (87, INVALID_RECORD, - -, "A record failed the broker's validation."),
    (88, UNSTABLE_OFFSET_COMMIT, R -, "There are pending transactional offsets that must be resolved first."),
    (89, THROTTLING_QUOTA_EXCEEDED, R -, "The request exceeded a throttling quota."),
    (90, PRODUCER_FENCED, - -, "A newer producer with the same transactional id has fenced this one."),
    (91, RESOURCE_NOT_FOUND, - -, "The request refers to a resource that does not exist."),
    (92, DUPLICATE_RESOURCE, - -, "The request refers to the same resource twice."),
    (93, UNACCEPTABLE_CREDENTIAL, - -, "The requested credential does not meet the acceptance criteria."),
    (94, INCONSISTENT_VOTER_SET, - -, "The sender or recipient of a voter request is not one of the expected voters."),
    (95, INVALID_UPDATE_VERSION, - -, "The update version is invalid."),
    (96, FEATURE_UPDATE_FAILED, - -, "The finalized features could not be updated."),
    (97, PRINCIPAL_DESERIALIZATION_FAILURE, - -, "The principal of a forwarded request could not be deserialized."),
    (98, SNAPSHOT_NOT_FOUND, - -, "The requested snapshot was not found."),
    (99, POSITION_OUT_OF_RANGE, - -, "The requested position is outside the snapshot."),
    (100, UNKNOWN_TOPIC_ID, R M, "This broker does not host the topic id."),
    (101, DUPLICATE_BROKER_REGISTRATION, - -, "The broker id is already registered."),
    (102, BROKER_ID_NOT_REGISTERED, - -, "The broker id is not registered."),
    (103, INCONSISTENT_TOPIC_ID, R M, "The topic id in the request does not match the log's topic id."),
    (104, INCONSISTENT_CLUSTER_ID, - -, "The cluster id in the request does not match the broker's."),
    (105, TRANSACTIONAL_ID_NOT_FOUND, - -, "The transactional id was not found."),
    (106, FETCH_SESSION_TOPIC_ID_ERROR, R -, "The fetch session used topic ids inconsistently."),
    (107, INELIGIBLE_REPLICA, - -, "The new ISR contains an ineligible replica."),
    (108, NEW_LEADER_ELECTED, - -, "The partition state was updated, but the leader has changed."),
    (109, OFFSET_MOVED_TO_TIERED_STORAGE, - -, "The requested offset has moved to tiered storage."),
    (110, FENCED_MEMBER_EPOCH, - -, "The member epoch is fenced; the member must give up its partitions and rejoin."),
    (111, UNRELEASED_INSTANCE_ID, - -, "The instance id is still held by another member of the group."),
    (112, UNSUPPORTED_ASSIGNOR, - -, "The group does not support the assignor or its version."),
    (113, STALE_MEMBER_EPOCH, - -, "The member epoch is stale."),
    (114, MISMATCHED_ENDPOINT_TYPE, - -, "The request was sent to the wrong kind of endpoint."),
    (115, UNSUPPORTED_ENDPOINT_TYPE, - -, "This endpoint type is not supported."),
    (116, UNKNOWN_CONTROLLER_ID, - -, "The controller id is not known."),
    (117, UNKNOWN_SUBSCRIPTION_ID, - -, "The client telemetry subscription id is unknown or outdated."),
    (118, TELEMETRY_TOO_LARGE, - -, "The client telemetry push is larger than the broker accepts."),
    (119, INVALID_REGISTRATION, - -, "The controller considers the broker registration invalid."),
    // TransactionAbortableException: not retriable; the transaction must be aborted.
    (120, TRANSACTION_ABORTABLE, - -, "The transaction hit an error; abort it to keep using the transactional id."),
    (121, INVALID_RECORD_STATE, - -, "The record state is invalid, so the delivery acknowledgement failed."),
    (122, SHARE_SESSION_NOT_FOUND, R -, "The share session was not found."),
    (123, INVALID_SHARE_SESSION_EPOCH, R -, "The share session epoch is invalid."),
    (124, FENCED_STATE_EPOCH, - -, "The share-group state epoch did not match."),
    (125, INVALID_VOTER_KEY, - -, "The voter key does not match the receiving replica's key."),
    (126, DUPLICATE_VOTER, - -, "The voter is already in the voter set."),
    (127, VOTER_NOT_FOUND, - -, "The voter is not in the voter set."),
    (128, INVALID_REGULAR_EXPRESSION, - -, "The regular expression is invalid."),
    (129, REBOOTSTRAP_REQUIRED, - -, "The client's metadata is stale; it should rebootstrap from its bootstrap servers."),
    (130, STREAMS_INVALID_TOPOLOGY, - -, "The Streams topology is invalid."),
    (131, STREAMS_INVALID_TOPOLOGY_EPOCH, - -, "The Streams topology epoch is invalid."),
    (132, STREAMS_TOPOLOGY_FENCED, - -, "The Streams topology epoch is outdated."),
    (133, SHARE_SESSION_LIMIT_REACHED, R -, "The broker's limit of share sessions has been reached."),
}

// The O(1) lookup relies on the table being dense from -1. Check it when compiling,
// so a misplaced row is a build error rather than a wrong answer.
const _: () = {
    let mut i = 0;
    while i < TABLE.len() {
        assert!(
            TABLE[i].code as i32 == i as i32 - 1,
            "error code table is not dense from -1"
        );
        i += 1;
    }
};

/// The name of every code that is not in the table.
const UNKNOWN_NAME: &str = "UNKNOWN_CODE";

/// The description of every code that is not in the table.
const UNKNOWN_DESCRIPTION: &str = "An error code this client does not know.";

impl ErrorCode {
    /// This code's row, or `None` if the code is unknown.
    fn row(self) -> Option<&'static Row> {
        // Row i holds code i - 1; codes below -1 give a negative index and no row.
        let index = usize::try_from(i32::from(self.0) + 1).ok()?;
        TABLE.get(index).filter(|row| row.code == self.0)
    }

    /// Whether this is [`ErrorCode::NONE`], i.e. no error.
    pub fn is_ok(self) -> bool {
        self == Self::NONE
    }

    /// Kafka's name for the code, e.g. `"NOT_LEADER_OR_FOLLOWER"`, or
    /// `"UNKNOWN_CODE"` for a code this crate does not know.
    pub fn name(self) -> &'static str {
        self.row().map_or(UNKNOWN_NAME, |row| row.name)
    }

    /// A one-sentence description of the error.
    pub fn description(self) -> &'static str {
        self.row().map_or(UNKNOWN_DESCRIPTION, |row| row.description)
    }

    /// Whether the request may be retried as is: the Java client's exception for
    /// this code is a `RetriableException`. False for [`ErrorCode::NONE`] and for
    /// unknown codes.
    pub fn is_retriable(self) -> bool {
        self.row().is_some_and(|row| row.retriable)
    }

    /// Whether the error suggests the client's metadata is stale, so it should be
    /// refreshed before retrying: the Java exception is an
    /// `InvalidMetadataException`. Every such code is also retriable.
    pub fn is_invalid_metadata(self) -> bool {
        self.row().is_some_and(|row| row.invalid_metadata)
    }

    /// Whether this crate knows the code (it is in the table, `NONE` included).
    pub fn is_known(self) -> bool {
        self.row().is_some()
    }
}

impl fmt::Display for ErrorCode {
    /// `NAME (code)`, e.g. `NOT_LEADER_OR_FOLLOWER (6)` or `UNKNOWN_CODE (9999)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn table_is_dense_and_sorted_from_minus_one() {
        for (i, row) in TABLE.iter().enumerate() {
            assert_eq!(i32::from(row.code), i as i32 - 1, "row {i} is {}", row.name);
        }
        assert_eq!(TABLE[0].code, -1);
        assert_eq!(TABLE.len(), 135);
        assert_eq!(TABLE[TABLE.len() - 1].code, 133);
    }

    #[test]
    fn every_row_is_found_by_its_code() {
        for row in TABLE {
            let code = ErrorCode(row.code);
            assert!(code.is_known());
            assert_eq!(code.name(), row.name);
            assert_eq!(code.description(), row.description);
            assert_eq!(code.is_retriable(), row.retriable);
            assert_eq!(code.is_invalid_metadata(), row.invalid_metadata);
        }
    }

    #[test]
    fn names_are_unique_screaming_snake() {
        let mut seen = HashSet::new();
        for row in TABLE {
            assert!(seen.insert(row.name), "duplicate name {}", row.name);
            let bytes = row.name.as_bytes();
            assert!(!bytes.is_empty());
            assert!(bytes[0].is_ascii_uppercase(), "{}", row.name);
            assert!(
                bytes
                    .iter()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_'),
                "{}",
                row.name
            );
            assert!(
                !row.name.ends_with('_') && !row.name.contains("__"),
                "{}",
                row.name
            );
        }
    }

    #[test]
    fn descriptions_are_present() {
        for row in TABLE {
            assert!(!row.description.is_empty(), "{}", row.name);
            assert!(row.description.ends_with('.'), "{}", row.name);
        }
    }

    #[test]
    fn invalid_metadata_implies_retriable() {
        // InvalidMetadataException extends RetriableException in Java.
        for row in TABLE {
            assert!(!row.invalid_metadata || row.retriable, "{}", row.name);
        }
    }

    #[test]
    fn constants_match_the_table() {
        assert_eq!(ErrorCode::UNKNOWN_SERVER_ERROR, ErrorCode(-1));
        assert_eq!(ErrorCode::NONE, ErrorCode(0));
        assert_eq!(ErrorCode::OFFSET_OUT_OF_RANGE, ErrorCode(1));
        assert_eq!(ErrorCode::NOT_LEADER_OR_FOLLOWER, ErrorCode(6));
        assert_eq!(ErrorCode::UNSUPPORTED_VERSION, ErrorCode(35));
        assert_eq!(ErrorCode::KAFKA_STORAGE_ERROR, ErrorCode(56));
        assert_eq!(ErrorCode::PRODUCER_FENCED, ErrorCode(90));
        assert_eq!(ErrorCode::TRANSACTION_ABORTABLE, ErrorCode(120));
        assert_eq!(ErrorCode::INVALID_RECORD_STATE, ErrorCode(121));
        assert_eq!(ErrorCode::SHARE_SESSION_NOT_FOUND, ErrorCode(122));
        assert_eq!(ErrorCode::INVALID_REGULAR_EXPRESSION, ErrorCode(128));
        assert_eq!(ErrorCode::REBOOTSTRAP_REQUIRED, ErrorCode(129));
        assert_eq!(ErrorCode::SHARE_SESSION_LIMIT_REACHED, ErrorCode(133));
        assert_eq!(ErrorCode(6).name(), "NOT_LEADER_OR_FOLLOWER");
        assert_eq!(ErrorCode(-1).name(), "UNKNOWN_SERVER_ERROR");
        assert_eq!(ErrorCode(0).name(), "NONE");
        assert_eq!(ErrorCode(17).name(), "INVALID_TOPIC_EXCEPTION");
        assert_eq!(ErrorCode(99).name(), "POSITION_OUT_OF_RANGE");
    }

    #[test]
    fn is_ok_only_for_none() {
        assert!(ErrorCode::NONE.is_ok());
        assert!(!ErrorCode::UNKNOWN_SERVER_ERROR.is_ok());
        assert!(!ErrorCode::NOT_LEADER_OR_FOLLOWER.is_ok());
        assert!(!ErrorCode(9999).is_ok());
        assert!(!ErrorCode::NONE.is_retriable());
        assert!(!ErrorCode::NONE.is_invalid_metadata());
    }

    /// `(code, retriable, invalid_metadata)` for the codes a producer acts on,
    /// checked against the Java client's exception classes.
    const PRODUCER_FLAGS: &[(ErrorCode, bool, bool)] = &[
        (ErrorCode::UNKNOWN_SERVER_ERROR, false, false),
        (ErrorCode::CORRUPT_MESSAGE, true, false),
        (ErrorCode::UNKNOWN_TOPIC_OR_PARTITION, true, true),
        (ErrorCode::LEADER_NOT_AVAILABLE, true, true),
        (ErrorCode::NOT_LEADER_OR_FOLLOWER, true, true),
        (ErrorCode::REQUEST_TIMED_OUT, true, false),
        (ErrorCode::BROKER_NOT_AVAILABLE, false, false),
        (ErrorCode::REPLICA_NOT_AVAILABLE, true, true),
        (ErrorCode::MESSAGE_TOO_LARGE, false, false),
        (ErrorCode::NETWORK_EXCEPTION, true, true),
        (ErrorCode::COORDINATOR_LOAD_IN_PROGRESS, true, false),
        (ErrorCode::COORDINATOR_NOT_AVAILABLE, true, false),
        (ErrorCode::NOT_COORDINATOR, true, false),
        (ErrorCode::INVALID_TOPIC_EXCEPTION, false, false),
        (ErrorCode::RECORD_LIST_TOO_LARGE, false, false),
        (ErrorCode::NOT_ENOUGH_REPLICAS, true, false),
        (ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND, true, false),
        (ErrorCode::INVALID_REQUIRED_ACKS, false, false),
        (ErrorCode::TOPIC_AUTHORIZATION_FAILED, false, false),
        (ErrorCode::CLUSTER_AUTHORIZATION_FAILED, false, false),
        (ErrorCode::INVALID_TIMESTAMP, false, false),
        (ErrorCode::UNSUPPORTED_VERSION, false, false),
        (ErrorCode::NOT_CONTROLLER, true, false),
        (ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT, false, false),
        (ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER, false, false),
        (ErrorCode::DUPLICATE_SEQUENCE_NUMBER, false, false),
        (ErrorCode::INVALID_PRODUCER_EPOCH, false, false),
        (ErrorCode::INVALID_TXN_STATE, false, false),
        (ErrorCode::INVALID_PRODUCER_ID_MAPPING, false, false),
        (ErrorCode::CONCURRENT_TRANSACTIONS, true, false),
        (ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED, false, false),
        (ErrorCode::KAFKA_STORAGE_ERROR, true, true),
        (ErrorCode::UNKNOWN_PRODUCER_ID, false, false),
        (ErrorCode::LISTENER_NOT_FOUND, true, true),
        (ErrorCode::FENCED_LEADER_EPOCH, true, true),
        (ErrorCode::UNKNOWN_LEADER_EPOCH, true, false),
        (ErrorCode::INVALID_RECORD, false, false),
        (ErrorCode::THROTTLING_QUOTA_EXCEEDED, true, false),
        (ErrorCode::PRODUCER_FENCED, false, false),
        (ErrorCode::UNKNOWN_TOPIC_ID, true, true),
        (ErrorCode::INCONSISTENT_TOPIC_ID, true, true),
        (ErrorCode::TRANSACTION_ABORTABLE, false, false),
        (ErrorCode::REBOOTSTRAP_REQUIRED, false, false),
        (ErrorCode::SHARE_SESSION_LIMIT_REACHED, true, false),
    ];

    #[test]
    fn producer_relevant_flags() {
        for &(code, retriable, invalid_metadata) in PRODUCER_FLAGS {
            assert_eq!(code.is_retriable(), retriable, "retriable: {code}");
            assert_eq!(
                code.is_invalid_metadata(),
                invalid_metadata,
                "invalid metadata: {code}"
            );
        }
    }

    #[test]
    fn flag_counts() {
        let retriable = TABLE.iter().filter(|row| row.retriable).count();
        let invalid_metadata = TABLE.iter().filter(|row| row.invalid_metadata).count();
        assert_eq!(retriable, 32);
        assert_eq!(invalid_metadata, 13);
    }

    #[test]
    fn unknown_codes_are_handled() {
        for raw in [-2, 134, 9999, i16::MIN, i16::MAX] {
            let code = ErrorCode(raw);
            assert!(!code.is_known(), "{raw}");
            assert!(!code.is_ok(), "{raw}");
            assert!(!code.is_retriable(), "{raw}");
            assert!(!code.is_invalid_metadata(), "{raw}");
            assert_eq!(code.name(), "UNKNOWN_CODE");
            assert_eq!(code.description(), UNKNOWN_DESCRIPTION);
        }
    }

    #[test]
    fn display_is_name_and_code() {
        assert_eq!(
            ErrorCode::NOT_LEADER_OR_FOLLOWER.to_string(),
            "NOT_LEADER_OR_FOLLOWER (6)"
        );
        assert_eq!(
            ErrorCode::UNKNOWN_SERVER_ERROR.to_string(),
            "UNKNOWN_SERVER_ERROR (-1)"
        );
        assert_eq!(ErrorCode::NONE.to_string(), "NONE (0)");
        assert_eq!(ErrorCode(9999).to_string(), "UNKNOWN_CODE (9999)");
        assert_eq!(ErrorCode(-2).to_string(), "UNKNOWN_CODE (-2)");
    }
}
