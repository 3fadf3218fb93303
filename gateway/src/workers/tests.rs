use super::*;

#[test]
fn the_sockets_share_one_port_even_when_port_0_was_asked_for() {
    let listeners = bind("127.0.0.1:0".parse().unwrap(), 3).unwrap();
    assert_ne!(listeners.addr.port(), 0);
    let expected = if cfg!(target_os = "linux") { 3 } else { 1 };
    assert_eq!(listeners.len(), expected);
    for socket in &listeners.sockets {
        assert_eq!(socket.local_addr().unwrap(), listeners.addr);
    }
}

#[test]
fn zero_workers_means_one() {
    assert_eq!(bind("127.0.0.1:0".parse().unwrap(), 0).unwrap().len(), 1);
}

#[test]
fn a_taken_address_is_an_error_not_a_shared_port() {
    // A plain listener (no SO_REUSEPORT) on the port: joining it fails.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    assert!(bind(taken.local_addr().unwrap(), 2).is_err());
}
