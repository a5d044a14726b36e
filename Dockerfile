# Multi-stage build: compile in the Rust image, run in a small Debian with a non-root user.
# Base images are pinned to exact versions (tests/stack_files.rs checks it); bump them on
# purpose. The Rust toolchain must be at least what the locked dependencies need (1.88).
FROM rust:1.90.0-bookworm AS build
WORKDIR /src
# Dependencies first, so source edits do not rebuild them. Cargo.toml declares the `scale`
# bench, and cargo refuses a manifest whose declared targets are missing, so the stub build
# needs a stub benches/scale.rs and the real build the real one (tests/dockerfile.rs runs
# these steps without Docker).
COPY Cargo.toml Cargo.lock ./
RUN mkdir src benches && echo 'fn main() {}' > src/main.rs && echo '' > src/lib.rs \
    && echo 'fn main() {}' > benches/scale.rs \
    && cargo build --release --locked && rm -rf src benches
COPY src ./src
COPY benches ./benches
RUN touch src/main.rs src/lib.rs && cargo build --release --locked

FROM debian:12.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home agent
COPY --from=build /src/target/release/qdrant-otel-agent /usr/local/bin/qdrant-otel-agent
USER 10001
ENTRYPOINT ["/usr/local/bin/qdrant-otel-agent"]
