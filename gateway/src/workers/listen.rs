//! The listeners: one socket per serving thread on the same port
//! (`SO_REUSEPORT`), and the defaults for threads and the connection cap.

use super::*;

/// The default for `--max-connections`: half of what the open-file limit
/// leaves after [`RESERVED_FDS`], as each client connection may hold a
/// backend connection. Without a limit to read, 1024.
pub(crate) fn default_max_connections() -> usize {
    #[cfg(unix)]
    let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    #[cfg(not(unix))]
    let limit: Option<u64> = None;
    match limit {
        Some(n) => usize::try_from(n.saturating_sub(RESERVED_FDS) / 2)
            .unwrap_or(usize::MAX)
            .max(1),
        // RLIM_INFINITY.
        None => 1024,
    }
}

/// The default for `--workers`: one serving thread per CPU but one, and at
/// least one.
///
/// **\[choice\]** One CPU is left to what runs beside the gateway: its
/// clients and backends on a developer's machine or in a pod, the kernel's
/// loopback and network processing. Each serving thread owns its
/// connections (no work stealing), so when more threads want to run than
/// there are CPUs they take turns, and each turn is a sleep and a wake-up:
/// on two CPUs with the load generator beside it, two threads made 0.39
/// context switches per request against 0.003 for one, and served 0.72x
/// of what one thread served (BENCHMARKS.md, "The binary's own cost"). With
/// the machine to itself and requests heavy enough to need every CPU
/// (tokens verified uncached), `--workers` set to the CPU count serves more.
pub(crate) fn default_workers() -> usize {
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    cpus.saturating_sub(1).max(1)
}

/// Binds `workers` sockets to `addr` (the first picks the port when it is 0;
/// the others join it).
pub(crate) fn bind(addr: SocketAddr, workers: usize) -> std::io::Result<Listeners> {
    let workers = if cfg!(target_os = "linux") {
        workers.max(1)
    } else {
        1
    };
    let first = socket(addr)?;
    let addr = first.local_addr()?;
    let mut sockets = vec![first];
    for _ in 1..workers {
        sockets.push(socket(addr)?);
    }
    Ok(Listeners { addr, sockets })
}

pub(super) fn socket(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    // What `TcpListener::bind` does on Unix: a restarted gateway can bind
    // while old connections sit in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    #[cfg(target_os = "linux")]
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(socket.into())
}
