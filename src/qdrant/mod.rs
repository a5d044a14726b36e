//! The only HTTP client of Qdrant: connection settings, authentication, the response envelope,
//! one typed method per endpoint, the models of what is read, versions, and typed errors.

pub mod client;
pub mod distributed;
pub mod endpoints;
pub mod error;
mod lenient;
pub mod models;
mod scan;
mod scan_de;
mod split;
mod stream;
pub mod traced;
pub mod version;

pub use client::{Auth, Client, ClientSettings};
pub use endpoints::Endpoint;
pub use error::{ErrorType, QdrantError};
pub use stream::decode_telemetry;
pub use version::Version;
