//! One module per API: a request type that encodes itself and a response type
//! that decodes itself, for every version in [`ApiKey::supported`].
//!
//! Message code writes fields in schema order and branches on `version` only
//! where the schema changes; the [`Writer`]/[`Reader`] flexible flag (set from
//! the version by the framing code) picks compact or classic forms.

use crate::api::ApiKey;
use crate::codec::{DecodeError, EncodeError, Reader, Writer};

/// A request body.
pub trait Request {
    /// The API this request belongs to.
    const API_KEY: ApiKey;
    /// The matching response body.
    type Response: Response;
    /// Writes the body in `version`. The writer's flexible flag is already set.
    fn encode(&self, version: i16, w: &mut Writer) -> Result<(), EncodeError>;
    /// Whether the broker answers this request. Every request is answered
    /// but a Produce request with `acks = 0`.
    fn expects_response(&self) -> bool {
        true
    }
}

/// A response body.
pub trait Response: Sized {
    /// Reads the body of `version`. The reader's flexible flag is already set.
    fn decode(r: &mut Reader<'_>, version: i16) -> Result<Self, DecodeError>;
}

pub mod add_offsets_to_txn;
pub mod add_partitions_to_txn;
pub mod api_versions;
pub mod end_txn;
pub mod find_coordinator;
pub mod init_producer_id;
pub mod metadata;
pub mod produce;
pub mod sasl_authenticate;
pub mod sasl_handshake;
pub mod txn_offset_commit;
