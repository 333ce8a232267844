//! The server's listener: who gets a connection, and for how long. At most
//! [`MAX_CONNECTIONS`] are served at once, at most [`PER_CLIENT`] of one
//! client (its next [`PER_CLIENT_WAITING`] wait their turn holding no slot),
//! and a connection that moves no byte for [`IDLE`] is closed; the header
//! deadline ([`super::HEADER_READ`]) is hyper's, set where connections are
//! served.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::time::{Instant, Sleep};

use super::{HEADER_READ, IDLE, MAX_WAITING, PER_CLIENT, PER_CLIENT_WAITING};

/// A TCP listener that serves at most a number of connections at once
/// ([`MAX_CONNECTIONS`]), at most a few of one client at once ([`PER_CLIENT`],
/// the client's next ones waiting their turn), and closes connections idle
/// for [`IDLE`].
pub(super) struct Guarded {
    listener: TcpListener,
    slots: Arc<Semaphore>,
    clients: Arc<Clients>,
    /// Waiting connections whose client's turn came, oldest first.
    turns: mpsc::UnboundedReceiver<(TcpStream, ClientShare)>,
}

impl Guarded {
    /// `listener`, serving `slots` connections at once, `per_client` of one client.
    pub(super) fn new(listener: TcpListener, slots: usize, per_client: usize) -> Guarded {
        let (turn, turns) = mpsc::unbounded_channel();
        Guarded {
            listener,
            slots: Arc::new(Semaphore::new(slots)),
            clients: Arc::new(Clients {
                limit: per_client,
                table: Mutex::default(),
                turn,
            }),
            turns,
        }
    }

    /// The next connection to serve, once a slot is free: a waiting one whose
    /// turn came, or a new one. A new one whose client is served on its share
    /// already waits (or is closed at once when too many wait).
    pub(super) async fn accept(&mut self) -> GuardedStream {
        let Ok(slot) = self.slots.clone().acquire_owned().await else {
            // Never closed; wait rather than spin if it ever were.
            return std::future::pending().await;
        };
        loop {
            let (stream, addr) = tokio::select! {
                biased;
                Some((stream, client)) = self.turns.recv() => {
                    return GuardedStream::new(stream, slot, client);
                }
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait, do not spin.
                        tracing::warn!(error = %e, "cannot accept an HTTP connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            match Clients::admit(&self.clients, addr.ip(), stream) {
                Admission::Serve(stream, client) => {
                    return GuardedStream::new(stream, slot, client);
                }
                Admission::Wait => {}
                Admission::Refuse => {
                    if let Some(held_back) =
                        crate::runtime::log_limit::allow("HTTP client over its share")
                    {
                        tracing::warn!(
                            client = %client_of(addr.ip()),
                            held_back,
                            "closed an HTTP connection: this client has {PER_CLIENT} served and {PER_CLIENT_WAITING} waiting, or {MAX_WAITING} wait in all"
                        );
                    }
                }
            }
        }
    }
}

/// Who a connection counts against: an IPv4 address, or the /64 of an IPv6
/// one (one host is commonly given a whole /64, so a single address would
/// let it open connections without end).
pub(super) fn client_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(Ipv6Addr::from(segments))
            }
        },
    }
}

/// Each client's connections: how many are served, which wait their turn.
pub(super) struct Clients {
    limit: usize,
    table: Mutex<ClientTable>,
    /// Where a waiting connection goes when its turn comes.
    turn: mpsc::UnboundedSender<(TcpStream, ClientShare)>,
}

/// Every client with a connection open, and how many wait in all (the
/// bound [`MAX_WAITING`] is on open files, whoever holds them).
#[derive(Default)]
pub(super) struct ClientTable {
    clients: HashMap<IpAddr, Client>,
    /// Connections waiting, of every client.
    waiting: usize,
}

/// One client; its entry goes with its last connection.
#[derive(Default)]
pub(super) struct Client {
    served: usize,
    /// Oldest first, with when each came.
    waiting: VecDeque<(TcpStream, Instant)>,
}

/// What becomes of a new connection.
pub(super) enum Admission {
    /// Serve it now, on one of its client's shares.
    Serve(TcpStream, ClientShare),
    /// Its client's shares are taken: it waits for one.
    Wait,
    /// Too many wait already: it is closed.
    Refuse,
}

impl Clients {
    /// Counts a new connection from `ip` in.
    pub(super) fn admit(clients: &Arc<Clients>, ip: IpAddr, stream: TcpStream) -> Admission {
        let client = client_of(ip);
        let mut table = clients.lock();
        let total_waiting = table.waiting;
        let entry = table.clients.entry(client).or_default();
        if entry.served < clients.limit {
            entry.served += 1;
            return Admission::Serve(
                stream,
                ClientShare {
                    client,
                    clients: clients.clone(),
                },
            );
        }
        if entry.waiting.len() >= PER_CLIENT_WAITING || total_waiting >= MAX_WAITING {
            return Admission::Refuse;
        }
        entry.waiting.push_back((stream, Instant::now()));
        table.waiting += 1;
        Admission::Wait
    }

    /// One of `client`'s served connections ended: its share goes to the
    /// oldest connection of the client still worth serving (one that waited
    /// longer than [`HEADER_READ`] is closed: its client has moved on, or is
    /// holding connections on purpose), else it is given up.
    pub(super) fn release(clients: &Arc<Clients>, client: IpAddr) {
        let next = {
            let mut table = clients.lock();
            let mut next = None;
            let mut dropped = 0;
            if let Some(entry) = table.clients.get_mut(&client) {
                while let Some((stream, since)) = entry.waiting.pop_front() {
                    dropped += 1;
                    if since.elapsed() <= HEADER_READ {
                        next = Some(stream);
                        break;
                    }
                }
                if next.is_none() {
                    entry.served = entry.served.saturating_sub(1);
                    if entry.served == 0 {
                        table.clients.remove(&client);
                    }
                }
            }
            table.waiting -= dropped;
            next
        };
        // Handed on outside the lock: if the server has stopped, the share
        // comes straight back here.
        if let Some(stream) = next {
            let share = ClientShare {
                client,
                clients: clients.clone(),
            };
            let _ = clients.turn.send((stream, share));
        }
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, ClientTable> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One served connection's share of its client's [`PER_CLIENT`].
pub(super) struct ClientShare {
    client: IpAddr,
    clients: Arc<Clients>,
}

impl Drop for ClientShare {
    fn drop(&mut self) {
        Clients::release(&self.clients, self.client);
    }
}

/// One accepted connection, holding its slot and its client's share until
/// it closes.
pub(super) struct GuardedStream {
    stream: TcpStream,
    idle: Pin<Box<Sleep>>,
    _slot: OwnedSemaphorePermit,
    _client: ClientShare,
}

impl GuardedStream {
    /// A connection to serve, its idle clock started.
    pub(super) fn new(
        stream: TcpStream,
        slot: OwnedSemaphorePermit,
        client: ClientShare,
    ) -> GuardedStream {
        let _ = stream.set_nodelay(true);
        GuardedStream {
            stream,
            idle: Box::pin(tokio::time::sleep(IDLE)),
            _slot: slot,
            _client: client,
        }
    }

    /// After a poll of the stream: progress restarts the idle clock; no
    /// progress past it ends the connection.
    pub(super) fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        poll: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        match poll {
            Poll::Ready(result) => {
                self.idle.as_mut().reset(Instant::now() + IDLE);
                Poll::Ready(result)
            }
            Poll::Pending => match self.idle.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "HTTP connection idle too long",
                ))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncRead for GuardedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let poll = Pin::new(&mut self.stream).poll_read(cx, buf);
        self.watch(cx, poll)
    }
}

impl AsyncWrite for GuardedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let poll = Pin::new(&mut self.stream).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
