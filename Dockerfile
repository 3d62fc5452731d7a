# syntax=docker/dockerfile:1
# Build: docker build -t arclink .
FROM rust:1.95-bookworm AS build
WORKDIR /src
# Dependencies first, so source edits do not rebuild the whole stack.
COPY Cargo.toml Cargo.lock ./
# Cargo.toml names the benchmarks' files (not built here).
COPY benches ./benches
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY src ./src
COPY crds ./crds
COPY deploy ./deploy
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin arclink \
    && strip target/release/arclink

# distroless/cc: glibc + libgcc, no shell, no package manager; runs as uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/arclink /arclink
COPY --from=build /src/deploy/emulator /deploy/emulator
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/arclink"]
CMD ["run"]
