//! ferrodis: a Redis 7.0 compatible server.
pub mod config;
