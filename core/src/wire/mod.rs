//! The wire protocol between a `herald` server and a remote client (`tcp://`).
//!
//! Every frame is a 4-byte big-endian length `N`, then `N` bytes: one frame-type byte
//! followed by a MessagePack body (rmp-serde's compact form: a struct is an array of its
//! fields in declaration order; an enum variant is its name as a string when it carries
//! nothing, else a one-entry map from its name to its fields). `docs/protocol.md` is the
//! reference; this module is the one implementation both sides share, free of any async
//! runtime so the blocking client and the tokio server use it alike.
//!
//! A reader checks the length against its limit *before* allocating, so a hostile
//! 4 GiB prefix costs nothing.

use serde::{Deserialize, Serialize};

use crate::destination::{Destination, DestinationKind};
use crate::error::{Error, ErrorKind};
use crate::message::Message;

/// The protocol version this build speaks; a peer with another version is refused in
/// the handshake.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest frame a peer accepts unless configured otherwise: 16 MiB.
pub const DEFAULT_MAX_FRAME: u32 = 16 * 1024 * 1024;

/// Bytes before a frame's body: the length (4) and the frame type (1).
pub const HEADER_LEN: usize = 5;

/// A request ID that asks for no reply (fire-and-forget operations).
pub const NO_REPLY: u64 = 0;

/// A request ID with this bit set asks for a reply only if the request fails (like
/// [`NO_REPLY`]), and the error reply carries the ID back: the other bits are the
/// client's, which Herald's client sets to the session the request belongs to, so the
/// session that sent it reports the failure.
pub const QUIET: u64 = 1 << 63;

/// Whether a request with this ID is answered also when it succeeds.
pub fn wants_reply(id: u64) -> bool {
    id != NO_REPLY && id & QUIET == 0
}

/// The frame types. Numbers are fixed forever; a new frame gets a new number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameType {
    /// Client → server, first frame: [`Hello`].
    Hello = 1,
    /// Server → client, answer to `Hello`: [`Welcome`].
    Welcome = 2,
    /// Client → server: [`RequestFrame`].
    Request = 3,
    /// Server → client: [`ReplyFrame`].
    Reply = 4,
    /// Server → client: one message for a consumer, [`Deliver`].
    Deliver = 5,
    /// Both ways, empty body (`nil`): "I am alive".
    Heartbeat = 6,
    /// Server → client: a fatal [`WireError`]; the server closes the connection after it.
    Error = 7,
}

impl FrameType {
    pub fn from_u8(value: u8) -> Option<FrameType> {
        Some(match value {
            1 => FrameType::Hello,
            2 => FrameType::Welcome,
            3 => FrameType::Request,
            4 => FrameType::Reply,
            5 => FrameType::Deliver,
            6 => FrameType::Heartbeat,
            7 => FrameType::Error,
            _ => return None,
        })
    }
}

/// The client's opening frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub version: u32,
    pub user: Option<String>,
    pub password: Option<String>,
    /// How often the client promises to send something (milliseconds; 0 = never). The
    /// server considers the client dead after three intervals of silence.
    pub heartbeat_ms: u32,
}

/// The server's answer to a good `Hello`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    pub version: u32,
    /// The broker-wide connection ID (what noLocal compares).
    pub connection_id: u64,
    /// How often the server sends something (milliseconds; 0 = never).
    pub heartbeat_ms: u32,
    /// The largest frame the server accepts.
    pub max_frame: u32,
}

/// A request: `id` is echoed in the reply; [`NO_REPLY`] asks for none (a failure is then
/// reported by a reply with ID 0), and so does an ID with [`QUIET`] set (a failure is
/// reported by a reply with that ID).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestFrame {
    pub id: u64,
    pub request: Request,
}

/// A named topic subscription, as `ConsumerOptions::subscription` describes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WireSubscription {
    pub name: String,
    pub durable: bool,
    pub shared: bool,
}

/// What a client asks. Session, consumer and browser IDs are chosen by the client,
/// unique within its connection, so it can route deliveries before the reply arrives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Request {
    Start,
    Stop,
    SetClientId { client_id: String },
    /// `mode` is the JMS value: 0 transacted, 1 auto, 2 client, 3 dups-ok.
    CreateSession { session: u64, mode: i32 },
    CloseSession { session: u64 },
    CreateConsumer {
        session: u64,
        consumer: u64,
        destination: Destination,
        selector: Option<String>,
        no_local: bool,
        subscription: Option<WireSubscription>,
        /// How many deliveries the server may push ahead; 0 means pull (see `Pull`).
        prefetch: u32,
    },
    CloseConsumer { consumer: u64 },
    /// Pull mode: the client wants one message.
    Pull { consumer: u64 },
    /// The application received the delivery `tag` of `consumer`; for a prefetching
    /// consumer this also returns one credit. `hold`: a MessageListener got it, so in
    /// AUTO and DUPS_OK it stays unacknowledged until `AcknowledgeHeld`.
    Consumed { consumer: u64, tag: u64, hold: bool },
    /// A message whose headers the client's producer has set.
    Send { session: u64, destination: Destination, message: Message },
    CreateBrowser { session: u64, browser: u64, queue: Destination, selector: Option<String> },
    /// Up to `max` more messages of the browser's snapshot; fewer means the end.
    BrowseNext { browser: u64, max: u32 },
    CloseBrowser { browser: u64 },
    Acknowledge { session: u64 },
    /// AUTO/DUPS_OK: acknowledges what was consumed with `hold`.
    AcknowledgeHeld { session: u64 },
    Commit { session: u64 },
    Rollback { session: u64 },
    Recover { session: u64 },
    Unsubscribe { session: u64, name: String },
    CreateTemporary { kind: DestinationKind },
    DeleteTemporary { destination: Destination },
    /// Statistics of every destination (`herald stat`); needs the admin permission.
    Stats,
    /// Closes the connection after the reply.
    Close,
}

/// What a request gets back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Reply {
    Done,
    Destination(Destination),
    /// `BrowseNext`: each message with its delivery count.
    Browsed(Vec<(u32, Message)>),
    Stats(Vec<StatLine>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplyFrame {
    pub id: u64,
    pub result: Result<Reply, WireError>,
}

/// One destination's statistics on the wire.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatLine {
    pub store: String,
    pub destination: Destination,
    pub depth: u64,
    pub consumers: u64,
    pub enqueued: u64,
    pub acknowledged: u64,
}

/// One pushed message. `tag` identifies it in `Consumed`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Deliver {
    pub consumer: u64,
    pub tag: u64,
    pub delivery_count: u32,
    pub message: Message,
}

/// The borrowed form of [`Deliver`] a server encodes without copying the message.
#[derive(Serialize)]
pub struct DeliverRef<'a> {
    pub consumer: u64,
    pub tag: u64,
    pub delivery_count: u32,
    pub message: &'a Message,
}

/// An error on the wire: an [`ErrorKind`] number and a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireError {
    pub kind: u32,
    pub message: String,
}

impl From<&Error> for WireError {
    fn from(e: &Error) -> WireError {
        WireError { kind: e.kind().code(), message: e.message().to_owned() }
    }
}

impl From<Error> for WireError {
    fn from(e: Error) -> WireError {
        WireError::from(&e)
    }
}

impl From<WireError> for Error {
    fn from(e: WireError) -> Error {
        let kind = ErrorKind::from_code(e.kind).unwrap_or(ErrorKind::Internal);
        Error::new(kind, e.message)
    }
}

/// A decoded frame.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    Hello(Hello),
    Welcome(Welcome),
    Request(RequestFrame),
    Reply(ReplyFrame),
    Deliver(Deliver),
    Heartbeat,
    Error(WireError),
}

/// Why bytes are not a frame. Every variant is fatal to the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The length prefix exceeds the limit (checked before anything is allocated).
    TooLarge { len: u64, max: u32 },
    /// A zero length: no room for the frame type.
    Empty,
    UnknownType(u8),
    /// The body does not decode as the frame type's MessagePack form.
    Malformed { frame: FrameType, cause: String },
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::TooLarge { len, max } => {
                write!(f, "frame of {len} bytes exceeds the limit of {max} bytes")
            }
            FrameError::Empty => f.write_str("empty frame (length 0)"),
            FrameError::UnknownType(t) => write!(f, "unknown frame type {t}"),
            FrameError::Malformed { frame, cause } => write!(f, "malformed {frame:?} frame: {cause}"),
        }
    }
}

impl From<FrameError> for Error {
    fn from(e: FrameError) -> Error {
        let kind = match e {
            FrameError::TooLarge { .. } => ErrorKind::ResourceAllocation,
            _ => ErrorKind::Io,
        };
        Error::new(kind, format!("protocol error: {e}"))
    }
}

impl Frame {
    pub fn frame_type(&self) -> FrameType {
        match self {
            Frame::Hello(_) => FrameType::Hello,
            Frame::Welcome(_) => FrameType::Welcome,
            Frame::Request(_) => FrameType::Request,
            Frame::Reply(_) => FrameType::Reply,
            Frame::Deliver(_) => FrameType::Deliver,
            Frame::Heartbeat => FrameType::Heartbeat,
            Frame::Error(_) => FrameType::Error,
        }
    }

    /// Appends this frame, length prefix included, to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Frame::Hello(b) => encode_into(out, FrameType::Hello, b),
            Frame::Welcome(b) => encode_into(out, FrameType::Welcome, b),
            Frame::Request(b) => encode_into(out, FrameType::Request, b),
            Frame::Reply(b) => encode_into(out, FrameType::Reply, b),
            Frame::Deliver(d) => encode_into(
                out,
                FrameType::Deliver,
                &DeliverRef { consumer: d.consumer, tag: d.tag, delivery_count: d.delivery_count, message: &d.message },
            ),
            Frame::Heartbeat => encode_into(out, FrameType::Heartbeat, &()),
            Frame::Error(b) => encode_into(out, FrameType::Error, b),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    /// Decodes a frame's body once its type byte is known.
    pub fn decode_body(frame: FrameType, body: &[u8]) -> Result<Frame, FrameError> {
        fn de<T: for<'de> Deserialize<'de>>(frame: FrameType, body: &[u8]) -> Result<T, FrameError> {
            rmp_serde::from_slice(body).map_err(|e| FrameError::Malformed { frame, cause: e.to_string() })
        }
        Ok(match frame {
            FrameType::Hello => Frame::Hello(de(frame, body)?),
            FrameType::Welcome => Frame::Welcome(de(frame, body)?),
            FrameType::Request => Frame::Request(de(frame, body)?),
            FrameType::Reply => Frame::Reply(de(frame, body)?),
            FrameType::Deliver => Frame::Deliver(de(frame, body)?),
            FrameType::Heartbeat => {
                de::<()>(frame, body)?;
                Frame::Heartbeat
            }
            FrameType::Error => Frame::Error(de(frame, body)?),
        })
    }

    /// Parses one frame from the front of `buf`. `Ok(None)`: more bytes are needed;
    /// `Ok(Some((frame, used)))`: a frame and how many bytes it took.
    pub fn parse(buf: &[u8], max_frame: u32) -> Result<Option<(Frame, usize)>, FrameError> {
        let Some(len) = frame_len(buf, max_frame)? else { return Ok(None) };
        let total = 4 + len;
        if buf.len() < total {
            return Ok(None);
        }
        let kind = FrameType::from_u8(buf[4]).ok_or(FrameError::UnknownType(buf[4]))?;
        let frame = Frame::decode_body(kind, &buf[HEADER_LEN..total])?;
        Ok(Some((frame, total)))
    }
}

/// The length of the frame at the front of `buf` (type byte and body), once its prefix
/// is there; refuses lengths of 0 or over `max_frame` before anything is allocated.
pub fn frame_len(buf: &[u8], max_frame: u32) -> Result<Option<usize>, FrameError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    if len == 0 {
        return Err(FrameError::Empty);
    }
    if len > max_frame {
        return Err(FrameError::TooLarge { len: u64::from(len), max: max_frame });
    }
    Ok(Some(len as usize))
}

/// Appends a frame of type `frame` with body `body` to `out`.
pub fn encode_into<T: Serialize + ?Sized>(out: &mut Vec<u8>, frame: FrameType, body: &T) {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0, frame as u8]);
    rmp_serde::encode::write(out, body).expect("wire frames always serialize into memory");
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let frames = vec![
            Frame::Hello(Hello { version: 1, user: Some("u".into()), password: None, heartbeat_ms: 5000 }),
            Frame::Welcome(Welcome { version: 1, connection_id: 7, heartbeat_ms: 0, max_frame: 100 }),
            Frame::Request(RequestFrame {
                id: 3,
                request: Request::Send {
                    session: 1,
                    destination: Destination::queue("q"),
                    message: Message::text("hi"),
                },
            }),
            Frame::Reply(ReplyFrame {
                id: 3,
                result: Err(WireError { kind: ErrorKind::Security.code(), message: "no".into() }),
            }),
            Frame::Deliver(Deliver { consumer: 1, tag: 9, delivery_count: 2, message: Message::text("x") }),
            Frame::Heartbeat,
            Frame::Error(WireError { kind: 11, message: "bye".into() }),
        ];
        let mut buf = Vec::new();
        for f in &frames {
            f.encode_into(&mut buf);
        }
        let mut at = 0;
        for f in &frames {
            let (got, used) = Frame::parse(&buf[at..], DEFAULT_MAX_FRAME).unwrap().unwrap();
            assert_eq!(&got, f);
            at += used;
        }
        assert_eq!(at, buf.len());
    }

    #[test]
    fn partial_frames_wait_for_more_bytes() {
        let bytes = Frame::Heartbeat.encode();
        for cut in 0..bytes.len() {
            assert_eq!(Frame::parse(&bytes[..cut], DEFAULT_MAX_FRAME).unwrap(), None);
        }
    }

    #[test]
    fn bad_frames_are_refused() {
        assert_eq!(
            Frame::parse(&[0xff, 0xff, 0xff, 0xff], 1024),
            Err(FrameError::TooLarge { len: u64::from(u32::MAX), max: 1024 })
        );
        assert_eq!(Frame::parse(&[0, 0, 0, 0], 1024), Err(FrameError::Empty));
        assert_eq!(Frame::parse(&[0, 0, 0, 2, 99, 0xc0], 1024), Err(FrameError::UnknownType(99)));
        assert!(matches!(
            Frame::parse(&[0, 0, 0, 2, 1, 0xc1], 1024),
            Err(FrameError::Malformed { frame: FrameType::Hello, .. })
        ));
    }
}
