//! A writer that copies everything to several non-blocking sockets, waiting
//! with poll(2) when one is full. Used by the diskless-sync child only (it
//! never touches the parent's poll loop). A socket that fails or stays
//! blocked past the timeout is dropped; the others go on.

use std::io::{self, Write};

pub struct SocketsWriter {
    fds: Vec<i32>,
    alive: Vec<bool>,
    timeout_ms: i32,
}

impl SocketsWriter {
    pub fn new(fds: Vec<i32>, timeout_ms: i32) -> Self {
        let alive = vec![true; fds.len()];
        SocketsWriter {
            fds,
            alive,
            timeout_ms,
        }
    }

    pub fn any_alive(&self) -> bool {
        self.alive.iter().any(|&a| a)
    }

    fn write_one(fd: i32, mut data: &[u8], timeout_ms: i32) -> bool {
        while !data.is_empty() {
            // SAFETY: write(2) from a valid slice to a descriptor we hold.
            let n = unsafe { libc::write(fd, data.as_ptr() as *const libc::c_void, data.len()) };
            if n > 0 {
                data = &data[n as usize..];
                continue;
            }
            let err = io::Error::last_os_error();
            match err.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {
                    let mut p = libc::pollfd {
                        fd,
                        events: libc::POLLOUT,
                        revents: 0,
                    };
                    // SAFETY: poll on one pollfd we own.
                    let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
                    if r <= 0 && io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
                        return false;
                    }
                }
                _ => return false,
            }
        }
        true
    }
}

impl Write for SocketsWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for i in 0..self.fds.len() {
            if self.alive[i] && !Self::write_one(self.fds[i], buf, self.timeout_ms) {
                self.alive[i] = false;
            }
        }
        if !self.any_alive() {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "no replica left"));
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
