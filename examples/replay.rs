//! Serves a recorded Qdrant fixture set as if it were a Qdrant node, for `make demo`:
//! `cargo run --example replay -- qdrant-1.18.3/single 127.0.0.1:16333`.
//! Recorded data, not a live server: `make run` polls a real Qdrant.

#[path = "../tests/support/mod.rs"]
mod support;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let set = args.next().unwrap_or_else(|| "qdrant-1.18.3/single".into());
    let server = support::FixtureServer::start(&set).await;
    eprintln!("replaying tests/fixtures/{set} at {}", server.url());
    // A fixed address for the demo: forward it to the fixture server's random port.
    let address = args.next().unwrap_or_else(|| "127.0.0.1:16333".into());
    let listener = tokio::net::TcpListener::bind(&address)
        .await
        .unwrap_or_else(|e| panic!("cannot listen on {address}: {e}"));
    eprintln!("listening on http://{address}");
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        let target = server.addr();
        tokio::spawn(async move {
            if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}
