//! Multi-part AOF (Redis 7.0): a manifest, a base file and incremental files
//! in `appenddirname`. (Work in progress.)

#[derive(Default)]
pub struct Aof {}
