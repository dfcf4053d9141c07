//! The TMF630 error body every API error is answered with.

use serde::{Deserialize, Serialize};

use super::common::{Extensions, TypeInfo};

tmf_struct! {
    /// A TMF630 `Error`: `code` and `reason` are required; `status` is the HTTP status as a
    /// string; `referenceError` is a URI of documentation about the error (not a field pointer).
    pub struct ErrorBody {
        /// Application error code, stable for clients to match on.
        pub code: String,
        /// Short explanation of the error class.
        pub reason: String,
        /// Detail of this occurrence, naming the JSON path at fault where there is one.
        pub message: Option<String>,
        /// HTTP status, as a string.
        pub status: Option<String>,
        /// URI of documentation about this error.
        pub reference_error: Option<String>,
    }
}
