//! One client's byte stream as frames: reading with the size limit checked before any
//! allocation, and writing through an in-memory batch flushed once per turn.

use bytes::{Buf, BytesMut};
use herald_core::wire::{self, Frame, FrameError, FrameType};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Why no frame could be read.
#[derive(Debug)]
pub enum ReadError {
    Frame(FrameError),
    /// The peer closed the stream in the middle of a frame.
    Truncated,
    Io(std::io::Error),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Frame(e) => e.fmt(f),
            ReadError::Truncated => f.write_str("the connection ended in the middle of a frame"),
            ReadError::Io(e) => write!(f, "read failed: {e}"),
        }
    }
}

pub struct Connection<S> {
    stream: S,
    read_buf: BytesMut,
    out: Vec<u8>,
    max_frame: u32,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new(stream: S, max_frame: u32) -> Connection<S> {
        Connection { stream, read_buf: BytesMut::with_capacity(8 * 1024), out: Vec::with_capacity(8 * 1024), max_frame }
    }

    /// The next frame; `Ok(None)` when the peer closed the stream between frames.
    /// Cancel-safe: bytes read before a cancellation stay buffered.
    pub async fn read_frame(&mut self) -> Result<Option<Frame>, ReadError> {
        loop {
            match Frame::parse(&self.read_buf, self.max_frame).map_err(ReadError::Frame)? {
                Some((frame, used)) => {
                    self.read_buf.advance(used);
                    return Ok(Some(frame));
                }
                None => {
                    // The length was checked against the limit; only now make room.
                    if let Some(len) = wire::frame_len(&self.read_buf, self.max_frame).map_err(ReadError::Frame)? {
                        self.read_buf.reserve((4 + len).saturating_sub(self.read_buf.len()));
                    } else {
                        self.read_buf.reserve(4096);
                    }
                }
            }
            let n = self.stream.read_buf(&mut self.read_buf).await.map_err(ReadError::Io)?;
            if n == 0 {
                return if self.read_buf.is_empty() { Ok(None) } else { Err(ReadError::Truncated) };
            }
        }
    }

    /// A frame already buffered, without reading more.
    pub fn buffered_frame(&mut self) -> Result<Option<Frame>, ReadError> {
        match Frame::parse(&self.read_buf, self.max_frame).map_err(ReadError::Frame)? {
            Some((frame, used)) => {
                self.read_buf.advance(used);
                Ok(Some(frame))
            }
            None => Ok(None),
        }
    }

    /// Queues a frame for the next [`Connection::flush`].
    pub fn queue<T: Serialize + ?Sized>(&mut self, frame_type: FrameType, body: &T) {
        wire::encode_into(&mut self.out, frame_type, body);
    }

    pub fn queue_frame(&mut self, frame: &Frame) {
        frame.encode_into(&mut self.out);
    }

    pub fn has_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// How many bytes wait to be written.
    pub fn pending_output(&self) -> usize {
        self.out.len()
    }

    pub async fn flush(&mut self) -> std::io::Result<()> {
        if !self.out.is_empty() {
            self.stream.write_all(&self.out).await?;
            self.out.clear();
            if self.out.capacity() > 1 << 20 {
                self.out.shrink_to(64 * 1024);
            }
        }
        self.stream.flush().await
    }

    pub async fn shutdown(&mut self) {
        let _ = self.flush().await;
        let _ = self.stream.shutdown().await;
    }
}
