//! The only HTTP client of Qdrant: connection settings, authentication, the response envelope,
//! the models of what is read, and typed errors.

pub mod client;
pub mod error;
pub mod models;

pub use client::{Auth, Client, ClientSettings};
pub use error::{ErrorType, QdrantError};
