//! The ACL command.

use super::Server;
use crate::error::CmdError;
use bytes::Bytes;

impl Server {
    pub fn cmd_acl(&mut self, _key: usize, _argv: &[Bytes]) -> Result<(), CmdError> {
        Err("ERR ACL is not implemented yet".into())
    }
}
