//! Transfer frames queued for one vectored write.
//!
//! A slave that is behind gets up to [`MAX_FRAMES`] frames (8 x 32 KiB by default) per
//! `writev` instead of one syscall per 32 KiB frame; the body slices are the mapped CommitLog
//! itself (`Bytes` keeping the mapping alive), so nothing is copied on the way to the socket.

use std::io::{self, IoSlice};

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;

use crate::wire::{TransferHeader, HEADER_SIZE};

/// Most frames gathered into one write.
pub(crate) const MAX_FRAMES: usize = 8;

pub(crate) struct FrameBatch {
    frames: Vec<([u8; HEADER_SIZE], Bytes)>,
}

impl FrameBatch {
    pub fn new() -> Self {
        FrameBatch {
            frames: Vec::with_capacity(MAX_FRAMES),
        }
    }

    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn push(&mut self, offset: i64, body: Bytes) {
        let header = TransferHeader {
            offset,
            size: body.len(),
        };
        self.frames.push((header.encode(), body));
    }

    /// Writes every frame, then empties the batch.
    pub async fn write_to(&mut self, wr: &mut OwnedWriteHalf) -> io::Result<()> {
        let mut parts: Vec<&[u8]> = Vec::with_capacity(self.frames.len() * 2);
        for (h, b) in &self.frames {
            parts.push(h);
            if !b.is_empty() {
                parts.push(b);
            }
        }
        let (mut part, mut at) = (0usize, 0usize);
        while part < parts.len() {
            let n = {
                let mut iov = Vec::with_capacity(parts.len() - part);
                iov.push(IoSlice::new(&parts[part][at..]));
                iov.extend(parts[part + 1..].iter().map(|p| IoSlice::new(p)));
                wr.write_vectored(&iov).await?
            };
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            // Advance the cursor past the `n` bytes written.
            let mut left = n;
            while left > 0 && part < parts.len() {
                let rest = parts[part].len() - at;
                if left >= rest {
                    left -= rest;
                    part += 1;
                    at = 0;
                } else {
                    at += left;
                    left = 0;
                }
            }
        }
        drop(parts);
        self.frames.clear();
        wr.flush().await
    }
}
