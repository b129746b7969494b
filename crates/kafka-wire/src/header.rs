//! Request and response headers.
//!
//! Request header v1 carries the API key, version, correlation id and client
//! id; v2 adds a tagged-field section. The client id stays a classic (i16
//! length) string even in v2. Response header v0 is the correlation id; v1
//! adds tagged fields.

use crate::api::ApiKey;
use crate::codec::{DecodeError, EncodeError, Reader, Writer};

/// The header that precedes every request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeader<'a> {
    /// The API being called.
    pub api_key: ApiKey,
    /// The version of that API the body is encoded in.
    pub api_version: i16,
    /// Echoed by the broker so the response can be matched to the request.
    pub correlation_id: i32,
    /// Shown in broker logs and quotas.
    pub client_id: Option<&'a str>,
}

impl RequestHeader<'_> {
    /// Writes the header (v1 or v2, chosen from the API and version).
    pub fn encode(&self, w: &mut Writer) -> Result<(), EncodeError> {
        let flexible = self.api_key.request_header_version(self.api_version) >= 2;
        w.i16(self.api_key.code());
        w.i16(self.api_version);
        w.i32(self.correlation_id);
        w.set_flexible(false);
        w.nullable_string(self.client_id)?;
        w.set_flexible(flexible);
        w.empty_tagged_fields();
        Ok(())
    }
}

/// Reads a response header and returns the correlation id; the reader is left
/// at the start of the body.
pub fn decode_response_header(r: &mut Reader<'_>, api: ApiKey, version: i16) -> Result<i32, DecodeError> {
    let correlation_id = r.i32()?;
    if api.response_header_version(version) >= 1 {
        let flexible = r.is_flexible();
        r.set_flexible(true);
        r.skip_tagged_fields()?;
        r.set_flexible(flexible);
    }
    Ok(correlation_id)
}
