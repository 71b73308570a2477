//! Accepting connections: the connection limit, TLS, the handshake, and one task per
//! client that reads requests and pushes deliveries.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use herald_core::wire::{self, Frame, FrameType, Reply, ReplyFrame, RequestFrame, WireError, Welcome};
use herald_core::{Broker, DeliveryMode, Error, ErrorKind};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::{timeout, Instant};
use tokio_rustls::TlsAcceptor;

use crate::auth::Auth;
use crate::config::Limits;
use crate::connection::{Connection, ReadError};
use crate::request::{Handler, Signal};
use crate::shutdown::Shutdown;

/// What every connection of a server shares.
pub struct Context {
    pub broker: Broker,
    pub auth: Arc<Auth>,
    pub limits: Limits,
    /// One permit per open connection.
    pub permits: Arc<Semaphore>,
    /// Whether broker calls may block on the journal (then they leave the async threads).
    pub durable: bool,
}

/// Accepts connections on `listener` until shutdown.
pub async fn serve(listener: TcpListener, tls: Option<TlsAcceptor>, ctx: Arc<Context>, mut shutdown: Shutdown) {
    loop {
        let accepted = tokio::select! {
            _ = shutdown.recv() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(cause = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let permit = match ctx.permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                tracing::warn!(%peer, limit = ctx.limits.max_connections, "connection refused: too many connections");
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    let mut conn = Connection::new(stream, ctx.limits.max_frame_bytes);
                    // Read the client's Hello first, so closing does not reset the
                    // connection before the client reads why.
                    let _ = timeout(Duration::from_secs(1), conn.read_frame()).await;
                    let e = Error::new(
                        ErrorKind::ResourceAllocation,
                        format!("the server has reached its limit of {} connections", ctx.limits.max_connections),
                    );
                    conn.queue(FrameType::Error, &WireError::from(&e));
                    let _ = timeout(Duration::from_secs(1), conn.shutdown()).await;
                });
                continue;
            }
        };
        let ctx = ctx.clone();
        let tls = tls.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            match tls {
                None => run_client(stream, peer, ctx, shutdown).await,
                Some(acceptor) => match timeout(ctx.limits.handshake_timeout(), acceptor.accept(stream)).await {
                    Ok(Ok(tls_stream)) => run_client(tls_stream, peer, ctx, shutdown).await,
                    Ok(Err(e)) => tracing::info!(%peer, cause = %e, "TLS handshake failed"),
                    Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
                },
            }
            drop(permit);
        });
    }
}

fn protocol_error(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Io, format!("protocol error: {}", message.into()))
}

fn read_error(e: &ReadError) -> Error {
    match e {
        ReadError::Frame(f) => Error::from(f.clone()),
        other => protocol_error(other.to_string()),
    }
}

/// Sends a fatal error frame and closes.
async fn refuse<S: AsyncRead + AsyncWrite + Unpin>(conn: &mut Connection<S>, peer: SocketAddr, error: &Error) {
    tracing::info!(%peer, cause = %error, "closing connection");
    conn.queue(FrameType::Error, &WireError::from(error));
    let _ = timeout(Duration::from_secs(1), conn.shutdown()).await;
}

/// Runs broker calls: off the async threads when they may wait for the journal.
fn blocking<T>(may_block: bool, f: impl FnOnce() -> T) -> T {
    if may_block && tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

async fn run_client<S: AsyncRead + AsyncWrite + Unpin + Send>(stream: S, peer: SocketAddr, ctx: Arc<Context>, shutdown: Shutdown) {
    let mut conn = Connection::new(stream, ctx.limits.max_frame_bytes);
    // The handshake: a Hello, in time, with our version and good credentials.
    let hello = match timeout(ctx.limits.handshake_timeout(), conn.read_frame()).await {
        Err(_) => return refuse(&mut conn, peer, &protocol_error("no handshake in time")).await,
        Ok(Ok(None)) => return,
        Ok(Err(e)) => return refuse(&mut conn, peer, &read_error(&e)).await,
        Ok(Ok(Some(Frame::Hello(hello)))) => hello,
        Ok(Ok(Some(other))) => {
            let e = protocol_error(format!("expected a Hello frame first, got {:?}", other.frame_type()));
            return refuse(&mut conn, peer, &e).await;
        }
    };
    if hello.version != wire::PROTOCOL_VERSION {
        let e = protocol_error(format!(
            "protocol version {} is not supported; this server speaks version {}",
            hello.version,
            wire::PROTOCOL_VERSION
        ));
        return refuse(&mut conn, peer, &e).await;
    }
    let auth = ctx.auth.clone();
    let (user, password) = (hello.user.clone(), hello.password.clone());
    let access = tokio::task::spawn_blocking(move || auth.authenticate(user.as_deref(), password.as_deref(), peer)).await;
    let access = match access {
        Ok(Ok(a)) => a,
        Ok(Err(e)) => {
            tracing::warn!(%peer, user = hello.user.as_deref().unwrap_or(""), "authentication failed");
            return refuse(&mut conn, peer, &e).await;
        }
        Err(e) => return refuse(&mut conn, peer, &Error::new(ErrorKind::Internal, e.to_string())).await,
    };
    let mut handler = match Handler::new(&ctx.broker, access, ctx.limits.clone()) {
        Ok(h) => h,
        Err(e) => return refuse(&mut conn, peer, &e).await,
    };
    let welcome = Welcome {
        version: wire::PROTOCOL_VERSION,
        connection_id: handler.connection.id(),
        heartbeat_ms: ctx.limits.heartbeat_ms,
        max_frame: ctx.limits.max_frame_bytes,
    };
    conn.queue(FrameType::Welcome, &welcome);
    if conn.flush().await.is_err() {
        return;
    }
    tracing::debug!(%peer, user = handler.user().unwrap_or("(anonymous)"), id = welcome.connection_id, "client connected");
    let idle = ctx.limits.idle_timeout_for(hello.heartbeat_ms);
    let result = client_loop(&mut conn, &mut handler, &ctx, shutdown, peer, idle).await;
    if let Err(e) = &result {
        refuse(&mut conn, peer, e).await;
    } else {
        conn.shutdown().await;
    }
    // Returns what the client left unacknowledged and deletes its temporaries.
    blocking(ctx.durable, move || drop(handler));
    tracing::debug!(%peer, "client disconnected");
}

/// Serves a connected client until it leaves (`Ok`), breaks the protocol or goes silent
/// (`Err`: sent to it as a fatal error), or the server stops.
async fn client_loop<S: AsyncRead + AsyncWrite + Unpin + Send>(
    conn: &mut Connection<S>,
    handler: &mut Handler,
    ctx: &Context,
    mut shutdown: Shutdown,
    peer: SocketAddr,
    idle: Duration,
) -> Result<(), Error> {
    // 0 means no heartbeats, as the Welcome frame tells the client.
    let heartbeat = (ctx.limits.heartbeat_ms > 0).then(|| Duration::from_millis(u64::from(ctx.limits.heartbeat_ms)));
    let mut last_read = Instant::now();
    let mut last_write = Instant::now();
    let signal = handler.signal.clone();
    loop {
        let next_heartbeat = last_write + heartbeat.unwrap_or_default();
        let mut first = None;
        tokio::select! {
            biased;
            _ = shutdown.recv() => {
                return Err(Error::new(ErrorKind::Io, "the server is shutting down"));
            }
            frame = conn.read_frame() => {
                last_read = Instant::now();
                first = match frame {
                    Ok(None) => return Ok(()),
                    Err(ReadError::Io(e)) => {
                        tracing::debug!(%peer, cause = %e, "read failed");
                        return Ok(());
                    }
                    Err(e) => return Err(read_error(&e)),
                    Ok(Some(frame)) => Some(frame),
                };
            }
            _ = signal.notify.notified() => {}
            _ = tokio::time::sleep_until(next_heartbeat), if heartbeat.is_some() => {
                conn.queue_frame(&Frame::Heartbeat);
            }
            _ = tokio::time::sleep_until(last_read + idle) => {
                return Err(Error::new(ErrorKind::Io, format!("no frame from the client for {} ms; closing", idle.as_millis())));
            }
        }
        let closing = turn(first, conn, handler, &signal, ctx.durable, peer).await?;
        if conn.has_output() {
            if let Err(e) = conn.flush().await {
                tracing::debug!(%peer, cause = %e, "write failed");
                return Ok(());
            }
            last_write = Instant::now();
        }
        if closing {
            return Ok(());
        }
    }
}

/// Frames carried out together (a small batch: frames are large).
const CHUNK: usize = 32;

/// Carries out `first` and the frames buffered behind it (so a burst of small frames
/// costs one write), then pushes what the consumers may take. Returns true when the
/// client asked to close.
///
/// With a durable journal, broker calls that may wait for a commit (a PERSISTENT send,
/// CLIENT_ACKNOWLEDGE acknowledgements, transactions, ...) run in one blocking section
/// per chunk, off the async threads. The rest stays on them, since leaving costs a
/// thread hand-off that would dominate its cost: NON_PERSISTENT traffic, and the
/// delivery records and automatic acknowledgements of PERSISTENT messages, which are
/// appends to the delivery log.
async fn turn<S: AsyncRead + AsyncWrite + Unpin + Send>(
    first: Option<Frame>,
    conn: &mut Connection<S>,
    handler: &mut Handler,
    signal: &Signal,
    durable: bool,
    peer: SocketAddr,
) -> Result<bool, Error> {
    let mut closing = false;
    if let Some(first) = first {
        // In chunks, each carried out in or out of a blocking section as a whole.
        let mut chunk = Vec::with_capacity(CHUNK);
        chunk.push(first);
        let mut handled = 0;
        loop {
            while chunk.len() < CHUNK {
                match conn.buffered_frame() {
                    Ok(Some(next)) => chunk.push(next),
                    Ok(None) => break,
                    Err(e) => return Err(read_error(&e)),
                }
            }
            let full = chunk.len() == CHUNK;
            handled += chunk.len();
            closing = handle_chunk(std::mem::take(&mut chunk), conn, handler, durable, peer).await?;
            // Enough for one turn: pushing and writing come next.
            if closing || !full || handled >= 1024 {
                break;
            }
        }
    }
    // Push to the consumers that have something, within their credit.
    // Recording a PERSISTENT message's delivery is an append to the delivery log, which
    // waits for no commit; only reading a paged tail back or removing expired messages
    // may wait, and takes pushing off the async threads.
    let dirty = signal.take();
    let may_block = durable && dirty.iter().any(|id| handler.consumers.get(id).is_some_and(|c| c.consumer.taking_may_wait()));
    let again = blocking(may_block, || {
        let mut again = Vec::new();
        for id in dirty {
            if let Some(c) = handler.consumers.get_mut(&id) {
                if c.push(conn) {
                    again.push(id);
                }
            }
        }
        again
    });
    for id in again {
        signal.mark(id);
    }
    Ok(closing)
}

/// Carries out frames in order. A PERSISTENT send is awaited while its message is
/// written, so no thread waits for the journal and the async threads serve other
/// clients meanwhile; runs of other frames go through one blocking section when one of
/// them may wait. Returns true when the client asked to close.
async fn handle_chunk<S: AsyncRead + AsyncWrite + Unpin + Send>(
    frames: Vec<Frame>,
    conn: &mut Connection<S>,
    handler: &mut Handler,
    durable: bool,
    peer: SocketAddr,
) -> Result<bool, Error> {
    let mut run = Vec::with_capacity(frames.len());
    for frame in frames {
        match frame {
            Frame::Request(RequestFrame { id, request: wire::Request::Send { session, destination, message } })
                if durable && message.delivery_mode == DeliveryMode::Persistent =>
            {
                if handle_run(&mut run, conn, handler, durable, peer)? {
                    return Ok(true);
                }
                let result = match handler.send_started(session, destination, message) {
                    Ok(pending) => {
                        // Replies already queued leave before the wait.
                        if conn.has_output() && conn.flush().await.is_err() {
                            return Ok(true);
                        }
                        pending.await
                    }
                    Err(e) => Err(e),
                };
                answer(conn, peer, id, result.map(|()| Reply::Done));
            }
            other => run.push(other),
        }
    }
    handle_run(&mut run, conn, handler, durable, peer)
}

/// Carries out `run`, off the async threads if a frame may wait for the journal.
fn handle_run<S: AsyncRead + AsyncWrite + Unpin + Send>(
    run: &mut Vec<Frame>,
    conn: &mut Connection<S>,
    handler: &mut Handler,
    durable: bool,
    peer: SocketAddr,
) -> Result<bool, Error> {
    if run.is_empty() {
        return Ok(false);
    }
    let may_block = durable && run.iter().any(|f| handler.may_block(f));
    blocking(may_block, || -> Result<bool, Error> {
        for frame in run.drain(..) {
            if handle_frame(frame, conn, handler, peer)? {
                return Ok(true);
            }
        }
        Ok(false)
    })
}

/// Queues the reply to request `id`: always for a failure, which a request sent
/// without waiting learns of this way too.
fn answer<S: AsyncRead + AsyncWrite + Unpin + Send>(
    conn: &mut Connection<S>,
    peer: SocketAddr,
    id: u64,
    result: Result<Reply, Error>,
) {
    if let Err(e) = &result {
        tracing::debug!(%peer, id, cause = %e, "request failed");
    }
    if wire::wants_reply(id) || result.is_err() {
        let result: Result<Reply, WireError> = result.map_err(WireError::from);
        conn.queue(FrameType::Reply, &ReplyFrame { id, result });
    }
}

/// Carries out one frame from a connected client. Returns true when the client asked to
/// close.
fn handle_frame<S: AsyncRead + AsyncWrite + Unpin + Send>(
    frame: Frame,
    conn: &mut Connection<S>,
    handler: &mut Handler,
    peer: SocketAddr,
) -> Result<bool, Error> {
    match frame {
        Frame::Heartbeat => Ok(false),
        Frame::Request(RequestFrame { id, request }) => {
            let closing = matches!(request, herald_core::wire::Request::Close);
            answer(conn, peer, id, handler.handle(request));
            Ok(closing)
        }
        other => Err(protocol_error(format!("a client may not send a {:?} frame", other.frame_type()))),
    }
}
