//! A DNS server on a loopback port it picks, answering from a table the test gives: addresses,
//! a CNAME, silence, or a truncated UDP answer that is whole over TCP (or whose first A queries
//! over TCP are cut). Names not in the table are NXDOMAIN. Over TCP it may also close each
//! connection after one answer, as some servers do. It runs on its own thread, so a test may
//! block on a child process meanwhile.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::oneshot;

/// What the server answers for a name.
#[derive(Clone, Debug)]
pub enum Entry {
    /// A and AAAA records.
    Addresses(Vec<IpAddr>),
    /// A CNAME to another name of the table, followed in the same answer.
    Cname(String),
    /// No answer at all.
    Silent,
    /// Over UDP: the truncation bit and no records; over TCP: these records.
    Truncated(Vec<IpAddr>),
    /// Over UDP: the truncation bit for A queries (AAAA answered there); over TCP: the first
    /// `cuts` A queries get their connection closed unanswered, later ones these records.
    TruncatedCut { ips: Vec<IpAddr>, cuts: usize },
}

/// How the server treats a TCP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tcp {
    /// Answers every query on it (pipelining, RFC 7766).
    KeepOpen,
    /// Closes it after one answer.
    OneAnswer,
}

/// What the server does with one query.
enum Reply {
    Message(Vec<u8>),
    Silence,
    /// Close the TCP connection without answering.
    Cut,
}

pub fn addresses(ips: &[&str]) -> Entry {
    Entry::Addresses(ips.iter().map(|ip| ip.parse().unwrap()).collect())
}

/// `(name, "udp" | "tcp", type)` of a query received.
type Query = (String, &'static str, String);
type Log = Arc<Mutex<Vec<Query>>>;

/// A running server; stops when dropped.
pub struct DnsServer {
    pub addr: SocketAddr,
    /// `(name, "udp" | "tcp", type)` of every query received.
    pub queries: Log,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The table, and how many A queries over TCP were cut, by name.
struct Zone {
    table: HashMap<String, Entry>,
    cut: Mutex<HashMap<String, usize>>,
}

type Table = Arc<Zone>;

impl Zone {
    /// Whether this A query over TCP for `name` is one of the first `cuts`.
    fn cut_again(&self, name: &str, cuts: usize) -> bool {
        let mut cut = self.cut.lock().unwrap();
        let done = cut.entry(name.to_string()).or_default();
        *done += 1;
        *done <= cuts
    }
}

impl DnsServer {
    pub fn start(table: &[(&str, Entry)]) -> DnsServer {
        DnsServer::start_with(table, Tcp::KeepOpen)
    }

    pub fn start_with(table: &[(&str, Entry)], tcp: Tcp) -> DnsServer {
        let table: Table = Arc::new(Zone {
            table: table
                .iter()
                .map(|(n, e)| (n.to_ascii_lowercase(), e.clone()))
                .collect(),
            cut: Mutex::default(),
        });
        let queries = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = oneshot::channel();
        let (ready, bound) = std::sync::mpsc::channel();
        let log = queries.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let (udp, tcp_listener) = bind().await;
                ready.send(udp.local_addr().unwrap()).unwrap();
                tokio::select! {
                    _ = stopped => {}
                    _ = serve_udp(udp, table.clone(), log.clone()) => {}
                    _ = serve_tcp(tcp_listener, table, log, tcp) => {}
                }
            });
        });
        let addr = bound.recv().unwrap();
        DnsServer {
            addr,
            queries,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// How many queries for `name` arrived over `transport`.
    pub fn count(&self, name: &str, transport: &str) -> usize {
        self.queries
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, t, _)| n == name && *t == transport)
            .count()
    }

    /// How many queries of `record_type` (`A`, `AAAA`) for `name` arrived over `transport`.
    pub fn count_type(&self, name: &str, transport: &str, record_type: &str) -> usize {
        self.queries
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, t, r)| n == name && *t == transport && r == record_type)
            .count()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A UDP socket and a TCP listener on the same free loopback port.
async fn bind() -> (UdpSocket, TcpListener) {
    for _ in 0..20 {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        if let Ok(tcp) = TcpListener::bind(udp.local_addr().unwrap()).await {
            return (udp, tcp);
        }
    }
    panic!("no loopback port free for both UDP and TCP");
}

async fn serve_udp(socket: UdpSocket, table: Table, log: Log) {
    let mut buf = [0u8; 4096];
    loop {
        let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        if let Reply::Message(reply) = answer(&buf[..n], &table, &log, "udp") {
            let _ = socket.send_to(&reply, peer).await;
        }
    }
}

async fn serve_tcp(listener: TcpListener, table: Table, log: Log, tcp: Tcp) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let (table, log) = (table.clone(), log.clone());
        tokio::spawn(async move {
            loop {
                let mut len = [0u8; 2];
                if stream.read_exact(&mut len).await.is_err() {
                    return;
                }
                let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
                if stream.read_exact(&mut query).await.is_err() {
                    return;
                }
                match answer(&query, &table, &log, "tcp") {
                    Reply::Message(reply) => {
                        let len = u16::try_from(reply.len()).unwrap().to_be_bytes();
                        if stream.write_all(&len).await.is_err()
                            || stream.write_all(&reply).await.is_err()
                            || tcp == Tcp::OneAnswer
                        {
                            return;
                        }
                    }
                    Reply::Silence => {}
                    Reply::Cut => return,
                }
            }
        });
    }
}

fn answer(bytes: &[u8], zone: &Zone, log: &Mutex<Vec<Query>>, transport: &'static str) -> Reply {
    let Ok(query) = Message::from_vec(bytes) else {
        return Reply::Silence;
    };
    let Some(q) = query.queries.first().cloned() else {
        return Reply::Silence;
    };
    let name = q
        .name()
        .to_ascii()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    log.lock()
        .unwrap()
        .push((name.clone(), transport, q.query_type().to_string()));
    let mut reply = Message::response(query.metadata.id, query.metadata.op_code);
    reply.metadata.recursion_desired = query.metadata.recursion_desired;
    reply.metadata.recursion_available = true;
    reply.add_query(q.clone());
    let mut owner = q.name().clone();
    let mut current = name;
    loop {
        match zone.table.get(&current) {
            None => {
                reply.metadata.response_code = ResponseCode::NXDomain;
                break;
            }
            Some(Entry::Silent) => return Reply::Silence,
            Some(Entry::Truncated(_)) if transport == "udp" => {
                reply.metadata.truncation = true;
                break;
            }
            Some(Entry::TruncatedCut { .. })
                if q.query_type() == RecordType::A && transport == "udp" =>
            {
                reply.metadata.truncation = true;
                break;
            }
            Some(Entry::TruncatedCut { cuts, .. })
                if q.query_type() == RecordType::A && zone.cut_again(&current, *cuts) =>
            {
                return Reply::Cut;
            }
            Some(
                Entry::Addresses(ips) | Entry::Truncated(ips) | Entry::TruncatedCut { ips, .. },
            ) => {
                for ip in ips {
                    let rdata = match (ip, q.query_type()) {
                        (IpAddr::V4(v4), RecordType::A) => RData::A(A(*v4)),
                        (IpAddr::V6(v6), RecordType::AAAA) => RData::AAAA(AAAA(*v6)),
                        _ => continue,
                    };
                    reply.add_answer(Record::from_rdata(owner.clone(), 60, rdata));
                }
                break;
            }
            Some(Entry::Cname(target)) => {
                let target_name = Name::from_ascii(format!("{target}.")).unwrap();
                reply.add_answer(Record::from_rdata(
                    owner,
                    60,
                    RData::CNAME(CNAME(target_name.clone())),
                ));
                owner = target_name;
                current = target.to_ascii_lowercase();
            }
        }
    }
    reply.to_vec().map_or(Reply::Silence, Reply::Message)
}
