//! q2c's domain model: the TMF resources as types, decimal money, the pricing engine and the
//! lifecycles of quotes and orders.
//!
//! Pure by design: no I/O, no async, no AWS or HTTP types, and no clock reads — every function
//! that depends on time takes `now` from its caller.
//!
//! # Layout
//! - [`money`]: `Money`, `Currency` and the rounding rule (the only place amounts are rounded).
//! - [`tmf`]: TMF648/620/622/630/688 resources, serialised as the specs name them.
#![warn(missing_docs)]

pub mod money;
pub mod settings;
pub mod tmf;
